/* Staff console, part two: what citizens need. The missed-questions inbox, the dashboard (inline SVG
   charts, each with a table for screen readers), import/export, and new briefings. Uses admin.js's
   helpers (h, api, main, field, toast, can, showErrors, fmtTime). Text is always set as text. */
"use strict";

const STATUS_NAMES = {new: "新问题", in_progress: "处理中", done: "已解决", dismissed: "已忽略"};
const KIND_NAMES = {fallback: "未匹配", refuse: "拒答", excerpt: "摘录", low: "低置信", not_helpful: "评为没帮助"};
const OUTCOME_NAMES = {answered: "已回答", clarified: "反问城市", refused: "拒答", excerpt: "摘录", fallback: "未匹配"};
const COLORS = ["#1c5aa8", "#2e9d5b", "#e0a100", "#c2410c", "#7c3aed", "#0891b2"];

VIEWS.splice(1, 0,
  {id: "inbox", label: "未解决问题", roles: ["viewer", "editor", "publisher"], render: renderInbox},
  {id: "dashboard", label: "数据看板", roles: ["viewer", "editor", "publisher"], render: renderDashboard},
  {id: "transfer", label: "导入导出", roles: ["viewer", "editor", "publisher"], render: renderTransfer},
  {id: "briefings", label: "新增简报", roles: ["viewer", "editor", "publisher"], render: renderBriefings});
// the admin and the auditor may read the inbox too, after their own pages (their first page stays theirs)
VIEWS.splice(VIEWS.length - 1, 0, {id: "inbox", label: "未解决问题", roles: ["admin", "auditor"], render: renderInbox});

const CHANNEL_NAMES = {web: "网页", wechat: "公众号", api: "接口"};
const tally = (o) => Object.entries(o || {}).map(([k, n]) => `${KIND_NAMES[k] || CHANNEL_NAMES[k] || k} ${n}`).join("，");

async function upload(path, file) {
  const resp = await fetch("/api/admin/" + path, {method: "POST", credentials: "same-origin", body: file,
    headers: {"X-CSRF-Token": state.csrf, "Content-Type": "application/octet-stream", "Accept": "application/json"}});
  let data = null;
  try { data = await resp.json(); } catch (e) { data = null; }
  if (!resp.ok && resp.status !== 422) throw new ApiError(resp.status, data);
  return {status: resp.status, data};
}

/* ---------- inbox ---------- */
async function renderInbox(status) {
  const data = await api("GET", "inbox" + (status ? "?status=" + encodeURIComponent(status) : ""));
  const filter = h("select", {name: "status"}, h("option", {value: ""}, "全部"),
    data.statuses.map((s) => h("option", {value: s, selected: s === status ? true : null}, STATUS_NAMES[s])));
  filter.addEventListener("change", () => { location.hash = "inbox/" + filter.value; });
  const intro = h("p", {class: "help"}, "市民问了但没有得到满意回答的问题，相似问法归为一组，问得多的在前。" +
    "保留180天；同一用户对同一组最多计3次。");
  const list = data.groups.length ? data.groups.map(groupCard) : [h("p", {class: "ok"}, "没有待处理的问题。")];
  main("未解决问题", intro, h("div", {class: "toolbar"}, field("状态", filter)), ...list);
}

function groupCard(g) {
  const now = g.now.of ? `${g.now.answered}/${g.now.of} 个问法现在能回答` : "";
  const card = h("section", {class: "card group", "data-group": g.id, "aria-label": g.focus},
    h("h3", {}, g.questions[0] ? g.questions[0].text : g.focus, h("span", {class: "count"}, ` ×${g.count}`)),
    h("dl", {class: "facts"},
      h("dt", {}, "状态"), h("dd", {class: "status"}, STATUS_NAMES[g.status] + (g.topic ? `（话题 ${g.topic}）` : "") +
        (g.reason ? `：${g.reason}` : "")),
      h("dt", {}, "类型"), h("dd", {}, tally(g.kinds)),
      h("dt", {}, "渠道"), h("dd", {}, tally(g.channels)),
      h("dt", {}, "城市"), h("dd", {}, tally(g.cities)),
      h("dt", {}, "时间"), h("dd", {}, `${fmtTime(g.first_seen)} — ${fmtTime(g.last_seen)}`),
      h("dt", {}, "建议话题"), h("dd", {}, g.suggested ? `${g.suggested.title}（${g.suggested.id}）` : "无"),
      h("dt", {}, "发布后"), h("dd", {class: "now"}, now)),
    h("ul", {class: "wordings"}, g.questions.map((q) => h("li", {}, `${q.text}（${q.count}次）`))));
  if (can("editor", "publisher")) card.append(groupActions(g));
  return card;
}

function groupActions(g) {
  const topic = h("input", {name: "topic", value: g.suggested ? g.suggested.id : (g.topic || "")});
  const example = h("input", {name: "example", placeholder: "默认：去掉城市名的原问法"});
  const reason = h("input", {name: "reason", placeholder: "例如：与本地政务无关"});
  const form = h("form", {class: "group-actions", novalidate: true}, h("p", {class: "form-error", role: "alert"}),
    h("div", {class: "toolbar"}, field("话题编号", topic), field("相似问题", example), field("忽略理由", reason)));
  const act = (verb, body, done) => async () => {
    try {
      const r = await api("POST", `inbox/${encodeURIComponent(g.id)}/${verb}`, body());
      toast(done(r));
      route();
    } catch (e) { showErrors(form, e); }
  };
  const button = (label, onclick, cls) => h("button", {type: "button", class: cls || "", onclick}, label);
  form.append(h("div", {class: "actions"},
    button("加为相似问题", act("example", () => ({topic: topic.value.trim(), example: example.value.trim() || undefined}),
      () => "已加入草稿，发布后生效"), "primary"),
    button("新建话题", act("new-topic", () => ({}), (r) => `新话题草案：${r.skeleton.title}（${r.skeleton.examples.join("、")}）；请在知识库中新建`)),
    button("标记已解答", act("answered", () => ({topic: topic.value.trim()}), () => "已标记为已解决")),
    button("忽略", act("dismiss", () => ({reason: reason.value.trim()}), () => "已忽略"), "danger"),
    g.status !== "new" ? button("重新打开", act("status", () => ({status: "new"}), () => "已重新打开")) : null));
  form.addEventListener("submit", (ev) => ev.preventDefault());
  return form;
}

/* ---------- dashboard ---------- */
const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function stackedBars(title, days, series, names) {
  const W = 640, H = 200, pad = 28, bw = Math.max(4, (W - pad * 2) / days.length - 6);
  const max = Math.max(1, ...days.map((d) => series.reduce((n, k) => n + (d[k] || 0), 0)));
  const svg = s("svg", {viewBox: `0 0 ${W} ${H + 40}`, role: "img", "aria-label": title, class: "chart"});
  days.forEach((d, i) => {
    let y = H;
    const x = pad + i * ((W - pad * 2) / days.length);
    series.forEach((k, j) => {
      const v = d[k] || 0, hgt = (v / max) * (H - 20);
      if (v) svg.append(s("rect", {x, y: y - hgt, width: bw, height: hgt, fill: COLORS[j % COLORS.length]}, s("title", {}, `${d.day} ${names[k] || k}: ${v}`)));
      y -= hgt;
    });
    if (days.length <= 16 || i % 2 === 0) svg.append(s("text", {x: x + bw / 2, y: H + 14, "text-anchor": "middle", "font-size": 10}, d.day.slice(5)));
  });
  svg.append(s("line", {x1: pad, y1: H, x2: W - pad, y2: H, stroke: "#999"}));
  svg.append(s("text", {x: 2, y: 14, "font-size": 10}, String(max)));
  const legend = h("p", {class: "legend", "aria-hidden": "true"}, series.map((k, j) =>
    h("span", {}, h("i", {class: "sw" + (j % COLORS.length)}), names[k] || k)));
  const table = h("table", {}, h("caption", {}, title),
    h("thead", {}, h("tr", {}, h("th", {scope: "col"}, "日期"), series.map((k) => h("th", {scope: "col"}, names[k] || k)))),
    h("tbody", {}, days.map((d) => h("tr", {}, h("th", {scope: "row"}, d.day), series.map((k) => h("td", {}, d[k] || 0))))));
  return h("figure", {class: "card chart-box"}, h("figcaption", {}, h("h3", {}, title)), svg, legend,
    h("details", {}, h("summary", {}, "数据表"), table));
}

function hbars(title, rows) {
  const W = 640, row = 22, max = Math.max(1, ...rows.map((r) => r.value));
  const svg = s("svg", {viewBox: `0 0 ${W} ${rows.length * row + 4}`, role: "img", "aria-label": title, class: "chart"});
  rows.forEach((r, i) => {
    const w = (r.value / max) * (W - 260);
    svg.append(s("text", {x: 0, y: i * row + 15, "font-size": 12}, r.label.slice(0, 18)),
      s("rect", {x: 220, y: i * row + 4, width: Math.max(1, w), height: row - 8, fill: COLORS[0]}),
      s("text", {x: 226 + w, y: i * row + 15, "font-size": 12}, String(r.value)));
  });
  const table = h("table", {}, h("caption", {}, title), h("thead", {}, h("tr", {}, h("th", {scope: "col"}, "项目"), h("th", {scope: "col"}, "次数"))),
    h("tbody", {}, rows.map((r) => h("tr", {}, h("th", {scope: "row"}, r.label), h("td", {}, r.value)))));
  return h("figure", {class: "card chart-box"}, h("figcaption", {}, h("h3", {}, title)),
    rows.length ? svg : h("p", {class: "muted"}, "暂无数据"), h("details", {}, h("summary", {}, "数据表"), table));
}

async function renderDashboard(arg) {
  const days = Number(arg) || 14;
  const d = await api("GET", "dashboard?days=" + days);
  const pick = h("select", {name: "days"}, [1, 7, 14, 30, 90].map((n) => h("option", {value: n, selected: n === days ? true : null}, `最近${n}天`)));
  pick.addEventListener("change", () => { location.hash = "dashboard/" + pick.value; });
  const channels = [...new Set(d.days.flatMap((x) => Object.keys(x.channels)))];
  const byChannel = d.days.map((x) => ({day: x.day, ...x.channels}));
  const byOutcome = d.days.map((x) => ({day: x.day, ...x.outcomes}));
  const t = d.totals;
  const summary = h("p", {class: "card totals"}, `共 ${t.questions} 个问题：已回答 ${t.answered}，反问城市 ${t.clarified}，` +
    `拒答 ${t.refused}，摘录 ${t.excerpt}，未匹配 ${t.fallback}。`);
  const ratings = h("table", {}, h("caption", {}, "各话题评价"), h("thead", {}, h("tr", {}, ["话题", "有帮助", "没帮助"].map((x) => h("th", {scope: "col"}, x)))),
    h("tbody", {}, d.ratings.map((r) => h("tr", {}, h("td", {}, r.title), h("td", {}, r.up), h("td", {}, r.down)))));
  const overdue = h("table", {}, h("caption", {}, `超过复核日期的答案（${d.overdue.length}）`),
    h("thead", {}, h("tr", {}, ["话题", "城市", "复核日期"].map((x) => h("th", {scope: "col"}, x)))),
    h("tbody", {}, d.overdue.map((o) => h("tr", {}, h("td", {}, o.title), h("td", {}, o.city), h("td", {}, o.review_by)))));
  main("数据看板", h("div", {class: "toolbar"}, field("时间范围", pick),
    h("a", {class: "button", href: `/api/admin/questions.csv?days=${days}`, download: "questions.csv"}, "导出问题记录（CSV）")),
    summary,
    stackedBars("每天的问题数（按渠道）", byChannel, channels, CHANNEL_NAMES),
    stackedBars("每天的回答结果", byOutcome, Object.keys(OUTCOME_NAMES), OUTCOME_NAMES),
    hbars("问得最多的话题", d.top_topics.map((x) => ({label: x.title, value: x.count}))),
    hbars("未解决问题（前10组）", d.top_missed.map((x) => ({label: x.question, value: x.count}))),
    h("div", {class: "card"}, ratings), h("div", {class: "card"}, overdue));
}

/* ---------- import / export ---------- */
async function renderTransfer() {
  const limits = await api("GET", "faq/limits");
  const exports = h("div", {class: "card"}, h("h3", {}, "导出（当前线上版本）"),
    h("p", {class: "help"}, "表格每行一个城市的答案，列为：标准问题、相似问题（一行一个）、城市、答案、原文引用（一行一个）、来源文件、分类、截至日期。导出的文件可以原样导入。"),
    h("div", {class: "actions"}, ["xlsx", "csv", "yaml"].map((f) =>
      h("a", {class: "button", href: `/api/admin/faq/export?format=${f}`, download: ""}, `导出 ${f.toUpperCase()}`))));
  const parts = [exports];
  if (can("editor", "publisher")) parts.push(importForm(limits));
  main("导入导出", ...parts);
}

function importForm(limits) {
  const file = h("input", {type: "file", name: "file", accept: ".xlsx,.csv,.yaml,.yml"});
  const mode = h("select", {name: "mode"}, h("option", {value: "overwrite"}, "覆盖已有话题"), h("option", {value: "skip"}, "跳过已有话题"));
  const report = h("div", {"aria-live": "polite"});
  const confirm = h("button", {type: "button", class: "primary", disabled: true}, "确认导入到草稿");
  const form = h("form", {class: "card", novalidate: true}, h("h3", {}, "导入到草稿"),
    h("p", {class: "notice"}, `限制：${limits.note}。支持 XLSX、CSV（UTF-8 或 GBK）和 YAML。先预览，确认后才写入草稿；有任何错误时不会写入。`),
    field("文件", file), field("已有话题", mode), h("p", {class: "form-error", role: "alert"}),
    h("div", {class: "actions"}, h("button", {type: "submit"}, "预览"), confirm), report);
  const send = async (verb) => {
    const f = file.files[0];
    if (!f) throw new Error("请选择文件");
    return upload(`faq/${verb}?name=${encodeURIComponent(f.name)}&mode=${mode.value}`, f);
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const {data} = await send("preview");
      report.replaceChildren(importReport(data));
      confirm.disabled = !data.ok;
    } catch (e) { showErrors(form, e); }
  });
  confirm.addEventListener("click", async () => {
    try {
      const {status, data} = await send("import");
      report.replaceChildren(importReport(data));
      confirm.disabled = true;
      if (status === 200 && data.written) toast(`已导入 ${data.topics} 个话题到草稿`); else toast(data.error || "导入未完成", true);
    } catch (e) { showErrors(form, e); }
  });
  return form;
}

function importReport(r) {
  const c = r.counts;
  const names = {new: "新增", changed: "修改", unchanged: "未变", skipped: "跳过", error: "有错误"};
  return h("div", {}, h("p", {class: r.ok ? "ok" : "form-error"}, (r.ok ? "可以导入：" : "有错误，不能导入：") +
      `新增${c.new}，修改${c.changed}，未变${c.unchanged}，跳过${c.skipped}，有错误${c.errors}行，空行${c.blank_rows}行`),
    r.problems.map((p) => h("p", {class: "form-error"}, p)),
    h("table", {}, h("thead", {}, h("tr", {}, ["行", "标准问题", "城市", "结果", "问题"].map((x) => h("th", {scope: "col"}, x)))),
      h("tbody", {}, r.rows.filter((x) => x.status !== "unchanged").map((x) => h("tr", {class: x.errors.length ? "bad" : ""},
        h("td", {}, x.row), h("td", {}, x.title), h("td", {}, x.city), h("td", {}, names[x.status] || x.status), h("td", {}, x.errors.join("；")))))));
}

/* ---------- new briefings ---------- */
async function renderBriefings(file) {
  const parts = [];
  if (can("editor", "publisher")) parts.push(briefingForm());
  const seeds = await api("GET", "seeds");
  parts.push(h("div", {class: "card"}, h("h3", {}, "已有简报"), h("ul", {}, seeds.seeds.map((x) =>
    h("li", {}, h("a", {href: "#briefings/" + encodeURIComponent(x.file)}, `${x.city} · ${x.title}`))))));
  if (file) parts.push(candidateList(await api("GET", `briefings/${encodeURIComponent(file)}/candidates`)));
  main("新增简报", ...parts);
}

function briefingForm() {
  const city = h("input", {name: "city"}), title = h("input", {name: "title"}), date = h("input", {name: "date", placeholder: "例如 2026年11月"});
  const places = h("input", {name: "places", placeholder: "用顿号分隔，例如 梧桐街道、濮院镇"});
  const text = h("textarea", {name: "text", rows: 8, placeholder: "粘贴简报全文，或选择 .txt / .docx 文件"});
  const file = h("input", {type: "file", name: "file", accept: ".txt,.docx"});
  const form = h("form", {class: "card", novalidate: true}, h("h3", {}, "上传新简报（新城市也从这里加入）"),
    h("div", {class: "side-by-side"}, field("城市", city), field("标题", title), field("日期", date), field("地名", places)),
    field("正文", text), field("或上传文件", file), h("p", {class: "form-error", role: "alert"}),
    h("button", {type: "submit", class: "primary"}, "上传并列出候选事实"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      let made;
      if (file.files[0]) {
        const q = new URLSearchParams({name: file.files[0].name, city: city.value, title: title.value, date: date.value, places: places.value});
        const r = await upload("briefings?" + q, file.files[0]);
        if (r.status !== 201) throw new ApiError(r.status, r.data);
        made = r.data;
      } else {
        made = await api("POST", "briefings", {city: city.value, title: title.value, date: date.value, text: text.value,
          places: places.value.split("、").map((p) => p.trim()).filter(Boolean)});
      }
      toast(`已保存简报 ${made.file}`);
      location.hash = "briefings/" + made.file;
    } catch (e) { showErrors(form, e); }
  });
  return form;
}

function candidateList(b) {
  const box = h("section", {class: "card"}, h("h3", {}, `候选事实：${b.city} · ${b.title}`),
    b.gaps.length ? h("p", {class: "notice"}, `发现转写缺失的数字（不能作为引用）：${b.gaps.join("；")}`) : null);
  for (const p of b.paragraphs) {
    box.append(h("h4", {}, `第${p.paragraph}段`), h("ol", {class: "sentences"}, p.candidates.map((c) => {
      const li = h("li", {class: c.lost_figure ? "lost" : ""}, h("span", {class: "sentence"}, c.sentence),
        h("span", {class: "muted"}, ` [${c.kinds.join("、")}] ${c.subject}`));
      if (c.lost_figure) li.append(h("span", {class: "form-error"}, " 有缺失的数字"));
      else if (c.suggested && can("editor", "publisher")) {
        li.append(h("button", {type: "button", class: "small", onclick: async () => {
          try {
            await api("POST", `briefings/${encodeURIComponent(b.file)}/answer`, {start: c.start, topic: c.suggested.id});
            toast(`已加入“${c.suggested.title}”的${b.city}答案（草稿）`);
          } catch (e) { toast(e.message, true); }
        }}, `加为“${c.suggested.title}”的答案`));
      }
      return li;
    })));
  }
  return box;
}
