// The web chat page. Everything from the server or the user is put on the page with textContent,
// never parsed as HTML, so an answer or a message can never become markup.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const log = $("log"), thread = $("thread"), typing = $("typing"), status = $("status");
  const form = $("composer"), input = $("input"), send = $("send"), restart = $("restart");
  const TIMEOUT_MS = 20000;
  // Answers end with a "——来源：…" line; the page shows it apart, under the bubble.
  const SOURCE_LINE = /\n?——来源：[^\n]*$/;
  // The server's welcome names the cities of the published version; this one is shown only if it is
  // unreachable.
  const WELCOME = "您好！我可以回答各地“我为群众办实事”新闻发布会介绍过的民生问题，" +
    "比如公交票价、医保报销、社保卡办理、课后服务、老旧小区改造等。请直接输入问题，或点下面的问题试试。";
  let welcome = WELCOME;
  // Phones raise the keyboard on focus; only move focus to the input where that costs nothing.
  const finePointer = window.matchMedia && window.matchMedia("(pointer: fine)").matches;
  let busy = false;
  let starters = [];

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function scrollToEnd() {
    thread.scrollTop = thread.scrollHeight;
  }

  function message(who, label) {
    const item = el("li", "msg msg--" + who);
    item.appendChild(el("span", "sr-only", label));
    log.appendChild(item);
    return item;
  }

  function addUser(text) {
    const item = message("user", "您说：");
    item.appendChild(el("p", "bubble", text));
    scrollToEnd();
  }

  function addChips(item, options, label) {
    if (!options || !options.length) return;
    const group = el("div", "chips");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", label);
    group.appendChild(el("p", "chips__label", label));
    for (const option of options) {
      const chip = el("button", "chip", String(option));
      chip.type = "button";
      chip.addEventListener("click", () => {
        // The chip goes away with the next message; keep a keyboard user's focus somewhere useful.
        if (finePointer) input.focus();
        ask(String(option));
      });
      group.appendChild(chip);
    }
    item.appendChild(group);
  }

  function chipLabel(reply) {
    if (reply.kind === "clarify") return "请选择：";
    if (reply.kind === "answer" || reply.kind === "excerpt") return "您还可以问：";
    return "您可以试试：";
  }

  function addBot(reply) {
    const item = message("bot", "答：");
    item.classList.add("msg--" + (reply.kind || "answer"));
    const source = reply.sources && reply.sources.length ? reply.sources[0].label : "";
    const text = source ? String(reply.reply).replace(SOURCE_LINE, "") : String(reply.reply);
    item.appendChild(el("p", "bubble", text));
    if (source) item.appendChild(el("p", "source", source));
    if (reply.rating) addRating(item, reply.rating);
    addChips(item, reply.suggestions, chipLabel(reply));
    scrollToEnd();
  }

  // 👍/👎 under an answer: real buttons with words, so they work by keyboard and read out well.
  function addRating(item, rating) {
    const box = el("div", "rating");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "这条回答有帮助吗？");
    box.appendChild(el("span", "rating__ask", "有帮助吗？"));
    for (const [helpful, label] of [[true, "👍 有帮助"], [false, "👎 没帮助"]]) {
      const button = el("button", "rating__button", label);
      button.type = "button";
      button.addEventListener("click", async () => {
        for (const b of box.querySelectorAll("button")) b.disabled = true;
        try {
          const data = await api("POST", "/api/web/feedback", { rating, helpful });
          box.textContent = "";
          box.appendChild(el("span", "rating__thanks", data.message || "谢谢您的反馈！"));
          status.textContent = "已收到您的评价，谢谢！";
        } catch (err) {
          box.textContent = "";
          box.appendChild(el("span", "rating__thanks", err.message));
        }
      });
      box.appendChild(button);
    }
    item.appendChild(box);
  }

  function addNotice(text) {
    const item = message("notice", "提示：");
    item.appendChild(el("p", "bubble", text));
    scrollToEnd();
  }

  function addWelcome() {
    addBot({ reply: welcome, kind: "welcome", sources: [], suggestions: starters });
  }

  async function api(method, path, body) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      const response = await fetch(path, {
        method, credentials: "same-origin", signal: controller.signal, cache: "no-store",
        headers: body ? { "Content-Type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data.error || "服务暂时不可用，请稍后再试。");
      return data;
    } catch (err) {
      if (err.name === "AbortError" || err instanceof TypeError) {
        throw new Error("网络不太顺畅，请检查网络后再试。");
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  function setBusy(on) {
    busy = on;
    typing.hidden = !on;
    send.disabled = on;
    for (const chip of log.querySelectorAll(".chip")) chip.disabled = on;
    if (on) scrollToEnd();
  }

  async function ask(text) {
    text = text.trim();
    if (!text || busy) return;
    addUser(text);
    setBusy(true);
    try {
      addBot(await api("POST", "/api/web/chat", { text }));
    } catch (err) {
      addNotice(err.message);
      if (!input.value) input.value = text;   // let the citizen send it again
    } finally {
      setBusy(false);
    }
  }

  function submit() {
    const text = input.value;
    if (!text.trim() || busy) return;
    input.value = "";
    fitInput();
    ask(text);
    if (finePointer) input.focus();
  }

  async function startOver() {
    if (busy) return;
    setBusy(true);
    try {
      const data = await api("POST", "/api/web/reset");
      starters = data.starters || starters;
      welcome = data.welcome || welcome;
      log.textContent = "";
      addWelcome();
      status.textContent = "已重新开始，之前的对话已清空。";
      input.value = "";
      fitInput();
    } catch (err) {
      addNotice(err.message);
    } finally {
      setBusy(false);
      input.focus();
    }
  }

  async function loadHistory() {
    try {
      const data = await api("GET", "/api/web/history");
      starters = data.starters || [];
      welcome = data.welcome || welcome;
      addWelcome();
      for (const entry of data.messages || []) {
        if (entry.role === "user") addUser(String(entry.text));
        else if (entry.role === "bot") addBot(entry);
      }
    } catch (err) {
      addWelcome();
      addNotice(err.message);
    }
    scrollToEnd();
  }

  // The input grows with its text up to a few lines, then scrolls.
  function fitInput() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (event) => {
    // Enter while a Chinese input method is composing picks a candidate; it must not send.
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    submit();
  });
  input.addEventListener("input", fitInput);
  restart.addEventListener("click", startOver);

  fitInput();
  loadHistory();
  if (finePointer) input.focus();
})();
