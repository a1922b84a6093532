/* Staff console over /api/admin/. Everything staff or citizens typed is shown as text (textContent),
   never as HTML; the page loads nothing from outside (CSP: 'self' only). */
"use strict";

const ROLE_NAMES = {viewer: "查看员", editor: "编辑", publisher: "发布员", admin: "系统管理员", auditor: "审计员"};
const ANSWER_FIELDS = [["text", "答案", "area"], ["quotes", "原文引用（一行一条）", "lines"], ["seed", "来源文件", "input"],
  ["dept", "部门", "input"], ["as_of", "截至日期", "date"], ["review_by", "复核日期", "date"]];
const state = {me: null, csrf: sessionStorage.getItem("csrf") || ""};

/* The cities are not a fixed list: staff add one by uploading its briefing. `live` and `draft` are the
   cities those versions answer for, `briefings` those an answer can be written for. */
const cities = () => api("GET", "cities");

/* ---------- small DOM helpers ---------- */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const $ = (sel, root) => (root || document).querySelector(sel);
let uid = 0;
const nextId = (p) => `${p}-${++uid}`;

function field(label, control, help) {
  control.id = control.id || nextId("f");
  const err = h("p", {class: "field-error", id: control.id + "-err", role: "alert"});
  control.setAttribute("aria-describedby", err.id);
  return h("div", {class: "field", "data-field": control.name || ""},
    h("label", {for: control.id}, label), control, help ? h("p", {class: "help"}, help) : null, err);
}

function toast(text, bad) {
  const t = $("#toast");
  t.textContent = text;
  t.className = "toast show" + (bad ? " bad" : "");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = "toast"; }, 4000);
}

function fmtTime(at) {
  if (at === null || at === undefined || at === "") return "";
  const d = typeof at === "number" ? new Date(at * 1000) : new Date(at);
  return isNaN(d) ? String(at) : d.toLocaleString("zh-CN", {hour12: false});
}

/* ---------- API ---------- */
class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `请求失败（${status}）`);
    this.status = status;
    this.body = body || {};
  }
}

async function api(method, path, body) {
  const headers = {"Accept": "application/json"};
  if (method !== "GET") headers["X-CSRF-Token"] = state.csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch("/api/admin/" + path, {method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body)});
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  if (resp.status === 401 && path !== "login" && path !== "me") { showLogin("登录已过期，请重新登录"); throw new ApiError(401, data); }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

function showErrors(form, err) {
  form.querySelectorAll(".field-error").forEach((p) => { p.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((c) => c.removeAttribute("aria-invalid"));
  const general = $(".form-error", form);
  if (general) general.textContent = err ? err.message : "";
  if (!err) return;
  $("#toast").className = "toast";          // an earlier "saved" must not stand beside a refusal
  const unplaced = [];
  for (const e of err.body.errors || []) {
    const box = form.querySelector(`[data-field="${CSS.escape(e.field || "")}"]`);
    const p = box && $(".field-error", box);
    if (p) {
      p.textContent = (p.textContent ? p.textContent + "；" : "") + e.message;
      const control = box.querySelector("input, textarea, select");
      if (control) control.setAttribute("aria-invalid", "true");
    } else unplaced.push(e.message);
  }
  if (general && unplaced.length) general.textContent = err.message + "：" + unplaced.join("；");
  const first = form.querySelector("[aria-invalid]");
  if (first) first.focus();
}

/* ---------- shell, routing ---------- */
const VIEWS = [
  {id: "topics", label: "知识库", roles: ["viewer", "editor", "publisher"], render: renderTopics},
  {id: "hit", label: "命中测试", roles: ["viewer", "editor", "publisher"], render: renderHitTest},
  {id: "publish", label: "草稿与发布", roles: ["viewer", "editor", "publisher"], render: renderPublish},
  {id: "versions", label: "版本记录", roles: ["viewer", "editor", "publisher"], render: renderVersions},
  {id: "golden", label: "黄金问题", roles: ["viewer", "editor", "publisher"], render: renderGolden},
  {id: "overdue", label: "待复核答案", roles: ["viewer", "editor", "publisher"], render: renderOverdue},
  {id: "users", label: "用户", roles: ["admin"], render: renderUsers},
  {id: "settings", label: "安全设置", roles: ["admin"], render: renderSettings},
  {id: "audit", label: "审计日志", roles: ["auditor"], render: renderAudit},
  {id: "account", label: "我的账号", roles: ["viewer", "editor", "publisher", "admin", "auditor"], render: renderAccount},
];
const can = (...roles) => state.me && roles.includes(state.me.role);

function views() { return VIEWS.filter((v) => can(...v.roles)); }

function main(title, ...content) {
  const m = $("#main");
  m.replaceChildren(h("h2", {}, title), ...content);
  m.focus({preventScroll: true});
  return m;
}

async function route() {
  if (!state.me) return;
  if (state.me.must_change_password) return renderForcedPassword();
  if (state.me.totp_setup_required) return renderAccount("您的角色要求开启双因素认证，开启后才能使用其他功能。");
  const [name, arg] = decodeURIComponent(location.hash.slice(1)).split("/");
  const allowed = views();
  const view = allowed.find((v) => v.id === name) || allowed[0];
  $("#nav").querySelectorAll("a").forEach((a) => {
    if (a.dataset.view === view.id) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  });
  try { await view.render(arg); } catch (e) { if (e.status !== 401) main(view.label, h("p", {class: "form-error"}, e.message)); }
}

function shell() {
  $("#who").hidden = false;
  $("#who-name").textContent = `${state.me.username}（${ROLE_NAMES[state.me.role] || state.me.role}）`;
  const nav = $("#nav");
  nav.hidden = false;
  nav.replaceChildren(...views().map((v) => h("a", {href: "#" + v.id, "data-view": v.id}, v.label)));
  route();
}

function showLogin(message) {
  state.me = null;
  $("#who").hidden = true;
  $("#nav").hidden = true;
  const user = h("input", {name: "username", autocomplete: "username", required: true});
  const pass = h("input", {name: "password", type: "password", autocomplete: "current-password", required: true});
  const totp = h("input", {name: "totp", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]*", maxlength: "6"});
  const form = h("form", {class: "card narrow", novalidate: true},
    field("用户名", user), field("密码", pass), field("动态验证码（已开启双因素认证时填写）", totp),
    h("p", {class: "form-error", role: "alert"}, message || ""),
    h("button", {type: "submit", class: "primary"}, "登录"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const body = {username: user.value.trim(), password: pass.value};
      if (totp.value.trim()) body.totp = totp.value.trim();
      remember(await api("POST", "login", body));
      await loadMe();
    } catch (e) {
      showErrors(form, e);
      if (e.body.totp_required) totp.focus();
    }
  });
  main("登录", form);
  user.focus();
}

async function loadMe() {
  try {
    state.me = remember(await api("GET", "me"));
    shell();
  } catch (e) { showLogin(e.status === 401 ? "" : e.message); }
}

function remember(session) {
  if (session && session.csrf_token) { state.csrf = session.csrf_token; sessionStorage.setItem("csrf", state.csrf); }
  return session;
}

function passwordForm(onDone, intro) {
  const old = h("input", {name: "old", type: "password", autocomplete: "current-password"});
  const neu = h("input", {name: "new", type: "password", autocomplete: "new-password"});
  const again = h("input", {name: "again", type: "password", autocomplete: "new-password"});
  const form = h("form", {class: "card narrow"}, intro ? h("p", {}, intro) : null,
    field("当前密码", old), field("新密码", neu, "至少8位，包含大写字母、小写字母、数字、符号中的至少三类"),
    field("再输入一次新密码", again), h("p", {class: "form-error", role: "alert"}),
    h("button", {type: "submit", class: "primary"}, "修改密码"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (neu.value !== again.value) return showErrors(form, new ApiError(422, {error: "两次输入的新密码不一致", errors: [{field: "again", message: "两次输入不一致"}]}));
    try {
      const r = await api("POST", "password", {old: old.value, new: neu.value});
      remember(r);                       // a password change starts a fresh session with a fresh token
      toast("密码已修改");
      onDone();
    } catch (e) { showErrors(form, e); }
  });
  return form;
}

function renderForcedPassword() {
  main("请先修改密码", passwordForm(async () => { await loadMe(); }, "这是管理员为您设置的临时密码，首次登录必须修改。"));
}

/* ---------- topics: browse and edit ---------- */
async function renderTopics(id) {
  if (id) return renderEditor(id === "new" ? null : id);
  const q = h("input", {type: "search", name: "q", placeholder: "标题、相似问题、答案文字或城市"});
  const list = h("div", {class: "list", "aria-live": "polite"});
  const search = async () => {
    const data = await api("GET", "topics?q=" + encodeURIComponent(q.value.trim()));
    const topics = data.topics || data;
    list.replaceChildren(h("p", {class: "muted"}, `共 ${topics.length} 个主题`), h("ul", {class: "topics"},
      topics.map((t) => h("li", {}, h("a", {href: "#topics/" + encodeURIComponent(t.id)}, t.title),
        h("span", {class: "muted"}, ` ${t.category || ""} · ${(t.cities || Object.keys(t.answers || {})).join("、")}`)))));
  };
  const form = h("form", {class: "toolbar", role: "search"}, field("搜索主题", q), h("button", {type: "submit"}, "搜索"),
    can("editor", "publisher") ? h("a", {href: "#topics/new", class: "button"}, "新建主题") : null);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); search(); });
  main("知识库", form, list);
  await search();
}

function linesOf(text) { return text.split("\n").map((s) => s.trim()).filter(Boolean); }

function answerCard(city, answer, editable, onPick) {
  const box = h("fieldset", {class: "answer", "data-city": city}, h("legend", {}, city));
  for (const [key, label, kind] of ANSWER_FIELDS) {
    const name = `answers.${city}.${key}`;
    let control;
    const value = answer[key];
    if (kind === "area" || kind === "lines") {
      control = h("textarea", {name, rows: kind === "area" ? 4 : 3});
      control.value = kind === "lines" ? (value || []).join("\n") : (value || "");
    } else {
      control = h("input", {name, type: kind === "date" ? "date" : "text"});
      control.value = value || "";
    }
    control.readOnly = !editable;
    box.append(field(label, control));
  }
  if (answer.figure_missing) box.append(h("p", {class: "notice"}, "简报原文缺失了这个数字：答案须说明“发布会未给出具体数字”。"));
  if (editable) box.append(h("button", {type: "button", onclick: () => onPick(city)}, "从简报原文选引用"));
  return box;
}

function readAnswer(form, city, old) {
  const get = (k) => form.elements[`answers.${city}.${k}`].value;
  const a = {...old, text: get("text").trim(), quotes: linesOf(get("quotes")), seed: get("seed").trim()};
  for (const k of ["dept", "as_of", "review_by"]) { const v = get(k).trim(); if (v) a[k] = v; else delete a[k]; }
  return a;
}

async function renderEditor(id) {
  const editable = can("editor", "publisher");
  const topic = id ? await api("GET", "topics/" + encodeURIComponent(id))
    : {id: "", title: "", category: "", examples: [], keywords: [], related: [], answers: {}};
  const form = h("form", {class: "editor", novalidate: true});
  const idInput = h("input", {name: "id", value: topic.id, readonly: id ? true : null, pattern: "[a-z0-9-]+"});
  const title = h("input", {name: "title", value: topic.title});
  const category = h("input", {name: "category", value: topic.category || ""});
  const examples = h("textarea", {name: "examples", rows: 6});
  examples.value = (topic.examples || []).join("\n");
  const related = h("input", {name: "related", value: (topic.related || []).join(" ")});
  const keywords = h("input", {name: "keywords", value: (topic.keywords || []).join(" ")});
  for (const c of [idInput, title, category, examples, related, keywords]) c.readOnly = c.readOnly || !editable;
  const answers = h("div", {class: "answers"});
  const picker = h("aside", {class: "picker", "aria-label": "简报原文"}, h("p", {class: "muted"}, "点“从简报原文选引用”后，这里显示该城市的简报。"));
  const addCity = h("select", {name: "add-city", "aria-label": "添加城市"}, h("option", {value: ""}, "添加城市的答案…"));
  const cards = {};
  const known = (await cities()).briefings;
  const refreshCities = () => {
    addCity.replaceChildren(h("option", {value: ""}, "添加城市的答案…"),
      ...known.filter((c) => !cards[c]).map((c) => h("option", {value: c}, c)));
  };
  const pick = (city) => openPicker(picker, city, form, cards[city].dataset.seed || form.elements[`answers.${city}.seed`].value);
  for (const city of [...known, ...Object.keys(topic.answers).filter((c) => !known.includes(c))]) {
    if (!topic.answers[city]) continue;
    cards[city] = answerCard(city, topic.answers[city], editable, pick);
    answers.append(cards[city]);
  }
  addCity.addEventListener("change", async () => {
    const city = addCity.value;
    if (!city) return;
    const seeds = await api("GET", "seeds");
    const seed = (seeds.seeds || seeds).find((s) => s.city === city);
    cards[city] = answerCard(city, {seed: seed ? seed.file : "", quotes: []}, true, pick);
    answers.append(cards[city]);
    refreshCities();
    $("textarea", cards[city]).focus();
  });
  refreshCities();
  form.append(field("主题编号", idInput, id ? null : "小写字母、数字和连字符，例如 bus-fare"), field("标题（不写数字）", title),
    field("分类", category), field("相似问题（一行一个，不写城市名）", examples), field("相关主题编号（空格分隔）", related),
    field("关键词（空格分隔）", keywords), answers,
    editable ? h("div", {class: "field"}, addCity) : null,
    h("p", {class: "form-error", role: "alert"}),
    editable ? h("div", {class: "actions"}, h("button", {type: "submit", class: "primary"}, "保存到草稿"),
      id ? h("button", {type: "button", class: "danger", onclick: () => retire(id)}, "停用此主题") : null) : null);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {...topic, id: idInput.value.trim(), title: title.value.trim(), category: category.value.trim(),
      examples: linesOf(examples.value), related: related.value.split(/\s+/).filter(Boolean),
      keywords: keywords.value.split(/\s+/).filter(Boolean), answers: {}};
    for (const city of Object.keys(cards)) body.answers[city] = readAnswer(form, city, topic.answers[city] || {});
    try {
      if (id) await api("PUT", "topics/" + encodeURIComponent(id), body);
      else await api("POST", "topics", body);
      showErrors(form, null);
      toast("已保存到草稿（发布后市民才能看到）");
      if (!id) location.hash = "topics/" + encodeURIComponent(body.id);
    } catch (e) { showErrors(form, e); }
  });
  main(id ? `编辑主题：${topic.title}` : "新建主题", h("p", {}, h("a", {href: "#topics"}, "← 返回主题列表")),
    h("div", {class: "edit-layout"}, form, picker));
}

async function retire(id) {
  if (!confirm("停用后，发布时这个主题将不再回答市民。确定停用吗？")) return;
  try { await api("DELETE", "topics/" + encodeURIComponent(id)); toast("已在草稿中停用"); location.hash = "topics"; }
  catch (e) { toast(e.message, true); }
}

async function openPicker(picker, city, form, seedFile) {
  const data = await api("GET", "seeds/" + encodeURIComponent(seedFile));
  const quotes = form.elements[`answers.${city}.quotes`];
  const add = (text) => {
    const t = text.trim();
    if (!t) return;
    quotes.value = (quotes.value.trim() ? quotes.value.trim() + "\n" : "") + t;
    toast("已添加引用：" + t.slice(0, 30));
  };
  const sentences = data.sentences || splitSentences(data.text || "");
  const body = h("ol", {class: "sentences"}, sentences.map((s) => {
    const text = typeof s === "string" ? s : s.text;
    const lost = typeof s === "object" && s.gap;
    return h("li", {class: lost ? "lost" : ""}, h("span", {class: "sentence"}, text),
      lost ? h("span", {class: "muted"}, "（原文缺失数字，不能引用）")
        : h("button", {type: "button", class: "small", onclick: () => add(text)}, "引用此句"));
  }));
  const selectBtn = h("button", {type: "button", onclick: () => add(String(window.getSelection()))}, "把选中的文字设为引用");
  picker.replaceChildren(h("h3", {}, `${city}的简报`), h("p", {class: "muted"}, data.title || seedFile),
    h("p", {class: "help"}, "选中一段原文后点下面的按钮，或点某一句后的“引用此句”。引用必须与原文一字不差。"),
    selectBtn, body);
  selectBtn.focus();
}

function splitSentences(text) {
  return text.split(/(?<=[。！？；\n])/).map((s) => s.trim()).filter((s) => s.length > 1);
}

/* ---------- hit test ---------- */
function replyBox(label, r) {
  if (!r) return h("section", {class: "card"}, h("h3", {}, label), h("p", {class: "muted"}, "无结果"));
  return h("section", {class: "card"}, h("h3", {}, label),
    h("p", {class: "reply"}, r.reply),
    h("dl", {class: "facts"},
      h("dt", {}, "主题"), h("dd", {}, r.topic ? `${r.topic_title || ""} ${r.topic}` : "未命中"),
      h("dt", {}, "城市"), h("dd", {}, r.city || "—"),
      h("dt", {}, "类型"), h("dd", {}, r.kind || "—"),
      h("dt", {}, "得分"), h("dd", {}, r.score !== undefined ? Number(r.score).toFixed(3) : (r.confidence ?? "—")),
      h("dt", {}, "命中的相似问题"), h("dd", {}, r.matched_example || "—")),
    (r.runners_up || []).length ? h("div", {}, h("h4", {}, "其他候选"), h("ol", {},
      r.runners_up.map((m) => h("li", {}, `${m.title || m.topic}（${Number(m.score).toFixed(3)}）`)))) : null);
}

async function renderHitTest() {
  const text = h("input", {name: "text", placeholder: "例如：平泉坐公交车要多少钱"});
  const city = h("select", {name: "city"}, h("option", {value: ""}, "不指定"));
  const out = h("div", {class: "side-by-side", "aria-live": "polite"});
  const form = h("form", {class: "toolbar"}, field("问题", text), field("城市", city), h("button", {type: "submit", class: "primary"}, "测试"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!text.value.trim()) return;
    const body = (version) => ({text: text.value.trim(), city: city.value || null, version});
    out.replaceChildren(h("p", {class: "muted"}, "正在测试…"));
    try {
      const [draft, live] = await Promise.all([api("POST", "hit-test", body("draft")), api("POST", "hit-test", body("live"))]);
      out.replaceChildren(replyBox("草稿", draft), replyBox("线上版本", live));
    } catch (e) { out.replaceChildren(h("p", {class: "form-error"}, e.message)); }
  });
  // The page is shown at once (a late render would wipe what staff already typed); the cities follow.
  main("命中测试", h("p", {class: "help"}, "用与线上相同的流程回答一个问题，对比草稿和线上版本。"), form, out);
  text.focus();
  const {live, draft} = await cities();
  city.append(...[...live, ...draft.filter((c) => !live.includes(c))].map((c) => h("option", {value: c}, c)));
}

/* ---------- diffs, publish, versions ---------- */
function renderOps(ops) {
  return h("span", {class: "ops"}, (ops || []).map(([op, t]) =>
    op === "insert" ? h("ins", {}, t) : op === "delete" ? h("del", {}, t) : h("span", {}, t)));
}

function diffView(diffs) {
  if (!diffs || !diffs.length) return h("p", {class: "muted"}, "没有变化。");
  const CHANGE = {added: "新增", removed: "停用", changed: "修改"};
  return h("div", {class: "diffs"}, diffs.map((d) => h("section", {class: "card diff"},
    h("h3", {}, `${CHANGE[d.change] || d.change}：${d.title || d.topic}`),
    h("dl", {}, (d.fields || []).flatMap((f) => [h("dt", {}, f.field),
      h("dd", {}, f.ops ? renderOps(f.ops) : [h("del", {}, fmtValue(f.before)), " → ", h("ins", {}, fmtValue(f.after))])])))));
}

function fmtValue(v) { return Array.isArray(v) ? v.join(" | ") : (v === null || v === undefined ? "" : String(v)); }

function goldenTable(report) {
  const rows = (report || []).filter((g) => g.changes || g.fails);
  if (!rows.length) return h("p", {class: "ok"}, "所有黄金问题的回答都不变。");
  return h("table", {}, h("caption", {}, "会变化或失败的黄金问题"),
    h("thead", {}, h("tr", {}, ["问题", "应命中", "线上回答", "草稿回答", "结果"].map((t) => h("th", {scope: "col"}, t)))),
    h("tbody", {}, rows.map((g) => h("tr", {class: g.fails ? "bad" : ""},
      h("td", {}, g.question), h("td", {}, `${g.topic} · ${g.city}`),
      h("td", {}, (g.live && g.live.reply) || ""), h("td", {}, (g.draft && g.draft.reply) || ""),
      h("td", {}, g.fails ? "会失败" : "回答会变化")))));
}

async function renderPublish() {
  const changes = await api("GET", "draft/changes");
  const diffs = changes.changes || changes;
  const body = [h("p", {class: "help"}, "草稿里的修改要发布后市民才能看到。发布前会用全部检查校验草稿，并运行黄金问题。"), diffView(diffs)];
  if (can("publisher")) {
    const note = h("input", {name: "note", placeholder: "例如：平泉公交票价答案措辞调整"});
    const golden = h("div", {"aria-live": "polite"});
    const form = h("form", {class: "card"}, field("发布说明", note), golden, h("p", {class: "form-error", role: "alert"}),
      h("button", {type: "submit", class: "primary", disabled: diffs.length ? null : true}, "发布"));
    let confirmed = false;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const r = await api("POST", "publish", {note: note.value.trim(), confirm: confirmed});
        toast(`已发布为第 ${r.version} 版，所有服务进程将在约一秒内切换`);
        location.hash = "versions";
      } catch (e) {
        if (e.status === 409 && e.body.golden) {
          golden.replaceChildren(goldenTable(e.body.golden), h("p", {class: "notice"}, "请核对上表，确认无误后再点一次“发布”。"));
          confirmed = true;
        } else showErrors(form, e);
      }
    });
    body.push(form);
  }
  main("草稿与发布", ...body);
}

async function renderVersions(arg) {
  const data = await api("GET", "versions");
  const list = data.versions || data;
  const live = data.live;
  const detail = h("div", {"aria-live": "polite"});
  const KIND = {seed: "初始导入", publish: "发布", rollback: "回滚"};
  const table = h("table", {}, h("caption", {}, "已发布的版本（新的在前）"),
    h("thead", {}, h("tr", {}, ["版本", "类型", "说明", "操作人", "时间", ""].map((t) => h("th", {scope: "col"}, t)))),
    h("tbody", {}, [...list].sort((a, b) => b.number - a.number).map((v) => h("tr", {},
      h("td", {}, `第 ${v.number} 版` + (v.number === live ? "（线上）" : "")),
      h("td", {}, (KIND[v.kind] || v.kind) + (v.based_on ? `（来自第 ${v.based_on} 版）` : "")),
      h("td", {}, v.note || ""), h("td", {}, v.actor || ""), h("td", {}, fmtTime(v.at)),
      h("td", {}, v.number > 1 ? h("button", {type: "button", class: "small", onclick: () => showDiff(v.number - 1, v.number)}, "查看改动") : null,
        can("publisher") && v.number !== live ? h("button", {type: "button", class: "small", onclick: () => rollback(v.number)}, "回滚到此版") : null)))));
  async function showDiff(a, b) {
    const d = await api("GET", `versions/${a}/diff/${b}`);
    detail.replaceChildren(h("h3", {}, `第 ${a} 版 → 第 ${b} 版`), diffView(d.changes || d));
    detail.scrollIntoView();
  }
  main("版本记录", table, detail);
  if (arg) await showDiff(Number(arg) - 1, Number(arg));
}

async function rollback(number) {
  if (!confirm(`回滚会把第 ${number} 版的内容发布为一个新版本。确定吗？`)) return;
  try {
    const r = await api("POST", "rollback", {version: number});
    toast(`已回滚：第 ${number} 版的内容现为第 ${r.version} 版`);
    renderVersions();
  } catch (e) { toast(e.message, true); }
}

/* ---------- golden questions, overdue ---------- */
async function renderGolden() {
  const data = await api("GET", "golden");
  const items = data.golden || data;
  const rows = items.map((g) => h("tr", {}, h("td", {}, g.question), h("td", {}, g.topic), h("td", {}, g.city),
    h("td", {}, can("editor", "publisher") ? h("button", {type: "button", class: "small", onclick: async () => {
      await api("DELETE", "golden", {question: g.question}); renderGolden();
    }}, "删除") : null)));
  const content = [h("p", {class: "help"}, "黄金问题必须始终命中指定的主题和城市；发布前会逐一检查。"),
    h("table", {}, h("thead", {}, h("tr", {}, ["问题", "主题", "城市", ""].map((t) => h("th", {scope: "col"}, t)))), h("tbody", {}, rows))];
  if (can("editor", "publisher")) {
    const q = h("input", {name: "question"}), t = h("input", {name: "topic"});
    const c = h("select", {name: "city"}, (await cities()).briefings.map((x) => h("option", {value: x}, x)));
    const form = h("form", {class: "toolbar"}, field("问题", q), field("主题编号", t), field("城市", c),
      h("p", {class: "form-error", role: "alert"}), h("button", {type: "submit"}, "添加"));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try { await api("POST", "golden", {question: q.value.trim(), topic: t.value.trim(), city: c.value}); renderGolden(); }
      catch (e) { showErrors(form, e); }
    });
    content.push(form);
  }
  main("黄金问题", ...content);
}

async function renderOverdue() {
  const data = await api("GET", "overdue");
  const items = data.overdue || data;
  main("待复核答案", items.length ? h("table", {}, h("thead", {}, h("tr", {}, ["主题", "城市", "复核日期", "截至日期"].map((t) => h("th", {scope: "col"}, t)))),
    h("tbody", {}, items.map((a) => h("tr", {}, h("td", {}, h("a", {href: "#topics/" + encodeURIComponent(a.topic)}, a.title || a.topic)),
      h("td", {}, a.city), h("td", {}, a.review_by), h("td", {}, a.as_of || ""))))) : h("p", {class: "ok"}, "没有超过复核日期的答案。"));
}

/* ---------- admin: users, settings ---------- */
async function renderUsers() {
  const data = await api("GET", "users");
  const users = data.users || data;
  const roleSelect = (value, name) => h("select", {name, "aria-label": "角色"}, Object.entries(ROLE_NAMES).map(([r, n]) =>
    h("option", {value: r, selected: r === value ? true : null}, n)));
  const rows = users.map((u) => {
    const sel = roleSelect(u.role, "role");
    sel.addEventListener("change", async () => {
      try { await api("PUT", "users/" + encodeURIComponent(u.username), {role: sel.value}); toast("角色已修改，该用户需重新登录"); }
      catch (e) { toast(e.message, true); renderUsers(); }
    });
    return h("tr", {}, h("td", {}, u.username), h("td", {}, sel), h("td", {}, u.disabled ? "已停用" : "正常"),
      h("td", {}, u.totp_enabled ? "已开启" : "未开启"), h("td", {}, fmtTime(u.last_login)),
      h("td", {}, h("button", {type: "button", class: "small", onclick: async () => {
        try { await api("PUT", "users/" + encodeURIComponent(u.username), {disabled: !u.disabled}); renderUsers(); } catch (e) { toast(e.message, true); }
      }}, u.disabled ? "启用" : "停用"), h("button", {type: "button", class: "small", onclick: () => resetPassword(u.username)}, "重置密码")));
  });
  const name = h("input", {name: "username", autocomplete: "off"}), pass = h("input", {name: "password", type: "password", autocomplete: "new-password"});
  const role = roleSelect("viewer", "role");
  const form = h("form", {class: "card"}, h("h3", {}, "新建账号"), field("用户名", name), field("角色", role),
    field("临时密码", pass, "对方首次登录时必须修改"), h("p", {class: "form-error", role: "alert"}), h("button", {type: "submit", class: "primary"}, "创建"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try { await api("POST", "users", {username: name.value.trim(), role: role.value, password: pass.value}); toast("账号已创建"); renderUsers(); }
    catch (e) { showErrors(form, e); }
  });
  main("用户", h("table", {}, h("thead", {}, h("tr", {}, ["用户名", "角色", "状态", "双因素", "最近登录", ""].map((t) => h("th", {scope: "col"}, t)))),
    h("tbody", {}, rows)), form);
}

async function resetPassword(username) {
  const pw = prompt(`为 ${username} 设置一个临时密码（对方登录后必须修改）：`);
  if (!pw) return;
  try { await api("POST", `users/${encodeURIComponent(username)}/reset`, {password: pw}); toast("已重置，请线下告知对方临时密码"); }
  catch (e) { toast(e.message + ((e.body.errors || []).map((x) => "：" + x.message).join("")), true); }
}

async function renderSettings() {
  const s = await api("GET", "settings");
  const boxes = ["publisher", "admin"].map((r) => h("label", {class: "check"},
    h("input", {type: "checkbox", name: "require_totp_for", value: r, checked: (s.require_totp_for || []).includes(r) ? true : null}), ROLE_NAMES[r]));
  const form = h("form", {class: "card narrow"}, h("fieldset", {}, h("legend", {}, "必须开启双因素认证（TOTP）的角色"), boxes),
    h("p", {class: "form-error", role: "alert"}), h("button", {type: "submit", class: "primary"}, "保存"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const chosen = [...form.querySelectorAll("input[name=require_totp_for]:checked")].map((i) => i.value);
    try { await api("PUT", "settings", {...s, require_totp_for: chosen}); toast("设置已保存"); } catch (e) { showErrors(form, e); }
  });
  main("安全设置", form);
}

/* ---------- auditor ---------- */
async function renderAudit() {
  const actor = h("input", {name: "actor"}), action = h("input", {name: "action"});
  const since = h("input", {name: "since", type: "date"}), until = h("input", {name: "until", type: "date"});
  const out = h("div", {"aria-live": "polite"});
  const query = () => {
    const p = new URLSearchParams();
    if (actor.value.trim()) p.set("actor", actor.value.trim());
    if (action.value.trim()) p.set("action", action.value.trim());
    if (since.value) p.set("since", since.value);
    if (until.value) p.set("until", until.value);
    return p.toString();
  };
  const csv = h("a", {href: "/api/admin/audit.csv", class: "button", download: "audit.csv"}, "导出CSV");
  const load = async () => {
    const data = await api("GET", "audit?" + query());
    csv.href = "/api/admin/audit.csv?" + query();
    const entries = data.entries || data;
    out.replaceChildren(h("table", {class: "audit"}, h("caption", {}, `${entries.length} 条记录`),
      h("thead", {}, h("tr", {}, ["时间", "操作人", "角色", "地址", "操作", "对象", "结果", "修改前", "修改后"].map((t) => h("th", {scope: "col"}, t)))),
      h("tbody", {}, entries.map((e) => h("tr", {}, h("td", {}, fmtTime(e.at ?? e.time)), h("td", {}, e.actor), h("td", {}, e.role || ""),
        h("td", {}, e.address || ""), h("td", {}, e.action), h("td", {}, e.object || ""), h("td", {}, e.result || ""),
        h("td", {class: "json"}, brief(e.before)), h("td", {class: "json"}, brief(e.after)))))));
  };
  const form = h("form", {class: "toolbar"}, field("操作人", actor), field("操作", action), field("开始日期", since), field("结束日期", until),
    h("button", {type: "submit", class: "primary"}, "筛选"), csv);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  main("审计日志", form, out);
  await load();
}

function brief(v) {
  if (v === null || v === undefined || v === "") return "";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > 300 ? s.slice(0, 300) + "…" : s;
}

/* ---------- own account ---------- */
async function renderAccount(notice) {
  const parts = [notice ? h("p", {class: "notice"}, notice) : null, h("h3", {}, "修改密码"), passwordForm(() => {})];
  const totpBox = h("section", {class: "card narrow"}, h("h3", {}, "双因素认证（TOTP）"));
  if (state.me.totp_enabled) {
    totpBox.append(h("p", {}, "已开启。登录时需要输入手机验证器上的6位动态码。"));
    const code = h("input", {name: "code", inputmode: "numeric", maxlength: "6"});
    const form = h("form", {}, field("当前动态码", code), h("p", {class: "form-error", role: "alert"}), h("button", {type: "submit"}, "关闭双因素认证"));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try { await api("POST", "totp/disable", {code: code.value.trim()}); await loadMe(); location.hash = "account"; } catch (e) { showErrors(form, e); }
    });
    totpBox.append(form);
  } else {
    const start = h("button", {type: "button", class: "primary"}, "开启双因素认证");
    start.addEventListener("click", async () => {
      try {
        const r = await api("POST", "totp/enroll", {});
        const code = h("input", {name: "code", inputmode: "numeric", maxlength: "6"});
        const form = h("form", {}, h("p", {}, "在手机验证器（如 FreeOTP、Google Authenticator）中手动添加以下密钥，然后输入它显示的6位动态码："),
          h("p", {class: "secret"}, r.secret), h("p", {class: "help"}, r.uri || r.otpauth_uri || ""),
          field("动态码", code), h("p", {class: "form-error", role: "alert"}), h("button", {type: "submit", class: "primary"}, "确认开启"));
        form.addEventListener("submit", async (ev) => {
          ev.preventDefault();
          try { await api("POST", "totp/confirm", {code: code.value.trim()}); toast("双因素认证已开启"); await loadMe(); location.hash = "account"; }
          catch (e) { showErrors(form, e); }
        });
        start.replaceWith(form);
        code.focus();
      } catch (e) { toast(e.message, true); }
    });
    totpBox.append(h("p", {}, "开启后，登录时除密码外还要输入手机验证器上的动态码。"), start);
  }
  main("我的账号", ...parts, totpBox);
}

/* ---------- start ---------- */
window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", () => {
  $("#logout").addEventListener("click", async () => {
    try { await api("POST", "logout", {}); } catch (e) { /* already gone */ }
    sessionStorage.removeItem("csrf");
    state.csrf = "";
    location.hash = "";
    showLogin("已退出登录");
  });
  loadMe();
});
