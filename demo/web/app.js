// The apppass demo page: plays Slack for the seeded people. Everything
// shown is built with createElement and textContent; no server text is
// ever parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let user = params.get("user") || localStorage.getItem("apppass-demo-user") || "UALICE";
let view = params.get("view") || "";
let state = null;
let source = null;
let modalKey = "";
let lastPaneKey = "";

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

async function api(path, body) {
  const res = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(Object.assign({ user }, body)),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function status(text, bad) {
  const s = $("status");
  s.textContent = text || "";
  s.className = bad ? "bad" : "";
}

// --- mrkdwn spans and Block Kit ---

function spans(parent, list) {
  for (const s of list || []) {
    let node;
    switch (s.t) {
      case "br": node = el("br"); break;
      case "pre": node = el("pre", "", s.s); break;
      case "mention": node = el("span", "mention", s.s); break;
      case "link":
        node = el("a", "", s.s);
        node.href = s.href;
        node.target = "_blank";
        node.rel = "noopener noreferrer";
        break;
      default:
        node = el(s.c ? "code" : "span", "", s.s);
    }
    if (s.b) node.classList.add("b");
    if (s.i) node.classList.add("i");
    if (s.x) node.classList.add("x");
    parent.appendChild(node);
  }
  return parent;
}

function button(e, block, where) {
  const b = el("button", "btn " + (e.style || ""));
  b.type = "button";
  spans(b, e.text);
  b.dataset.actionId = e.action_id || "";
  b.addEventListener("click", async () => {
    if (e.url) { window.open(e.url, "_blank", "noopener"); return; }
    if (e.confirm && !window.confirm(e.confirm)) return;
    b.disabled = true;
    try {
      await api("/api/click", Object.assign({ action_id: e.action_id || "", block_id: block.block_id || "", value: e.value || "" }, where));
      status("");
    } catch (err) {
      status("Click failed: " + err.message, true);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

function blocks(parent, list, where, errors) {
  for (const b of list || []) {
    const d = el("div", "block " + b.type);
    switch (b.type) {
      case "header":
        spans(d, b.text);
        break;
      case "section": {
        const body = el("div", "section-body");
        if (b.text) body.appendChild(spans(el("div", "text"), b.text));
        if (b.fields) {
          const f = el("div", "fields");
          for (const field of b.fields) f.appendChild(spans(el("div", "field"), field));
          body.appendChild(f);
        }
        d.appendChild(body);
        if (b.accessory) {
          const a = el("div", "accessory");
          if (b.accessory.type === "button") a.appendChild(button(b.accessory, b, where));
          else spans(a, b.accessory.text);
          d.appendChild(a);
        }
        break;
      }
      case "divider":
        d.appendChild(el("hr"));
        break;
      case "context":
      case "actions":
        for (const e of b.elements || []) {
          if (e.type === "button") d.appendChild(button(e, b, where));
          else d.appendChild(spans(el("span", "ctx"), e.text));
        }
        break;
      case "input": {
        const id = "in-" + b.block_id + "-" + (b.input ? b.input.action_id : "");
        const label = el("label", "label", b.label + (b.optional ? " (optional)" : ""));
        label.htmlFor = id;
        d.appendChild(label);
        if (b.input) {
          const i = el(b.input.multiline ? "textarea" : "input");
          i.id = id;
          i.dataset.block = b.block_id;
          i.dataset.action = b.input.action_id;
          i.placeholder = b.input.placeholder || "";
          i.value = b.input.initial_value || "";
          if (b.input.max_length) i.maxLength = b.input.max_length;
          d.appendChild(i);
        }
        if (b.hint) d.appendChild(spans(el("div", "hint"), b.hint));
        if (errors && errors[b.block_id]) d.appendChild(el("div", "error", errors[b.block_id]));
        break;
      }
      default:
        if (b.text) spans(d, b.text);
        else d.appendChild(el("span", "unsupported", "[" + (b.raw_type || b.type) + " block]"));
    }
    parent.appendChild(d);
  }
  return parent;
}

// --- panes ---

function time(ts) {
  const d = new Date(parseFloat(ts) * 1000);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function conversation(c) {
  const list = el("div", "messages");
  if (!c.messages.length) {
    list.appendChild(el("div", "empty", c.kind === "dm"
      ? "This is your conversation with apppass. Type /apppass help below."
      : "Nothing here yet."));
  }
  for (const m of c.messages) {
    if (m.command) {
      const row = el("div", "msg command");
      row.appendChild(el("span", "who", m.author));
      row.appendChild(el("code", "", m.text[0].s));
      row.appendChild(el("span", "time", time(m.ts)));
      list.appendChild(row);
      continue;
    }
    const row = el("div", "msg" + (m.ephemeral ? " ephemeral" : ""));
    row.dataset.ts = m.ts;
    row.appendChild(el("div", "avatar", "ap"));
    const body = el("div", "body");
    const head = el("div", "head");
    head.appendChild(el("span", "author", m.author));
    head.appendChild(el("span", "app", "APP"));
    head.appendChild(el("span", "time", time(m.ts)));
    if (m.edited) head.appendChild(el("span", "time", "(edited)"));
    if (m.ephemeral) head.appendChild(el("span", "only", "Only visible to you"));
    body.appendChild(head);
    if (m.blocks && m.blocks.length) blocks(body, m.blocks, { channel: c.id, ts: m.ts });
    else body.appendChild(spans(el("div", "text"), m.text));
    row.appendChild(body);
    list.appendChild(row);
  }
  return list;
}

function home() {
  const wrap = el("div", "home");
  if (!state.home.published) {
    wrap.appendChild(el("div", "empty",
      "Nothing published yet: apppass has not published an App Home view for you. " +
      "Opening this tab sent it app_home_opened."));
    return wrap;
  }
  return blocks(wrap, state.home.blocks, { view_id: state.home.id });
}

function mailbox() {
  const wrap = el("div", "mailbox");
  if (!state.mailbox.running) {
    wrap.appendChild(el("div", "empty", "The mail gateway is not running in this demo, so no mail has been sent."));
    return wrap;
  }
  if (!state.mailbox.mail.length) {
    wrap.appendChild(el("div", "empty", "No mail yet. Mail that devices send through the gateway with an app password shows up here."));
    return wrap;
  }
  const t = el("table");
  const h = el("tr");
  for (const c of ["Time", "From", "To", "Subject", "Size"]) h.appendChild(el("th", "", c));
  t.appendChild(h);
  for (const m of state.mailbox.mail.slice().reverse()) {
    const r = el("tr");
    r.appendChild(el("td", "", new Date(m.time).toLocaleString()));
    r.appendChild(el("td", "", m.from));
    r.appendChild(el("td", "", (m.to || []).join(", ")));
    r.appendChild(el("td", "", m.subject));
    r.appendChild(el("td", "num", m.size.toLocaleString() + " B"));
    t.appendChild(r);
  }
  wrap.appendChild(t);
  return wrap;
}

const hintsByRole = {
  employee: ["/apppass help", "/apppass list", "/apppass create Laptop Mail", "/apppass create", "/apppass delete iPhone Mail"],
  admin: ["/apppass revoke @alice --all left the company", "/apppass revoke @alice \"Office scanner\" scanner replaced", "/apppass requests"],
  helpdesk: ["/apppass requests", "/apppass show @alice", "/apppass list"],
};

// seen counts, per person and conversation, the messages already read:
// what was there when the page first showed it, then all of it whenever
// it is open. Badges show the rest, as Slack's do.
const seen = {};
let lastUnread = {};

function unread(id, total) {
  const k = user + "/" + id;
  if (view === id || !(k in seen)) seen[k] = total;
  return Math.max(0, total - seen[k]);
}

function nav() {
  const n = $("nav");
  n.replaceChildren();
  const fresh = [];
  const item = (id, label, total, section) => {
    if (section) n.appendChild(el("div", "nav-section", section));
    const count = unread(id, total);
    if (count > (lastUnread[user + "/" + id] || 0)) fresh.push(label);
    lastUnread[user + "/" + id] = count;
    const b = el("button", "nav-item" + (view === id ? " active" : "") + (count ? " unread" : ""), label);
    b.type = "button";
    if (count) b.appendChild(el("span", "count", String(count)));
    b.addEventListener("click", () => select(id));
    n.appendChild(b);
  };
  item("home", "⌂ apppass · Home", 0, "Apps");
  let first = true;
  for (const c of state.conversations.filter((c) => c.kind === "channel")) {
    item(c.id, "# " + c.name, c.messages.length, first ? "Channels" : "");
    first = false;
  }
  for (const c of state.conversations.filter((c) => c.kind === "dm")) item(c.id, "● " + c.name, c.messages.length, "Direct messages");
  item("mailbox", "✉ Mailbox", state.mailbox.mail.length, "Stand-in mailbox");
  // Say where something new landed, since it is often not where one looks
  // (a password created from Home arrives in the DM).
  if (fresh.length) status("New in " + fresh.join(", ") + " (see the sidebar)");
}

function render() {
  if (!state) return;
  const who = $("who");
  if (!who.options.length) {
    for (const p of state.people) {
      const o = el("option", "", p.name + " (@" + p.handle + ", " + p.role + ")");
      o.value = p.id;
      who.appendChild(o);
    }
  }
  who.value = user;
  $("role").textContent = state.me.email;
  if (!view) view = state.conversations[0].id;
  nav();
  const pane = $("pane");
  const conv = state.conversations.find((c) => c.id === view);
  const atBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 40;
  let title, content;
  if (conv) {
    title = conv.kind === "dm" ? "apppass" : "# " + conv.name;
    content = conversation(conv);
  } else if (view === "home") {
    title = "apppass · Home";
    content = home();
  } else {
    title = "Mailbox · mail the gateway sent through Graph";
    content = mailbox();
  }
  $("title").textContent = title;
  pane.replaceChildren(content);
  const key = user + "/" + view;
  if (key !== lastPaneKey || atBottom) pane.scrollTop = pane.scrollHeight;
  lastPaneKey = key;
  $("composer").hidden = !conv;
  $("hints").hidden = !conv;
  const hints = $("hints");
  hints.replaceChildren();
  for (const h of hintsByRole[state.me.role] || []) {
    const b = el("button", "hint-chip", h);
    b.type = "button";
    b.addEventListener("click", () => { $("text").value = h; $("text").focus(); });
    hints.appendChild(b);
  }
  renderModal();
}

function renderModal() {
  const m = state.modal;
  const key = m ? JSON.stringify(m) : "";
  if (key === modalKey) return;
  modalKey = key;
  $("backdrop").hidden = !m;
  if (!m) return;
  $("modal-title").textContent = m.title;
  $("modal-depth").textContent = m.depth > 1 ? "(" + m.depth + " deep)" : "";
  const body = $("modal-body");
  body.replaceChildren();
  blocks(body, m.blocks, { view_id: m.id }, m.errors);
  $("modal-close").textContent = m.close;
  $("modal-submit").textContent = m.submit;
  $("modal-submit").hidden = !m.submit;
  const first = body.querySelector("input, textarea");
  if (first) first.focus();
}

async function submitModal() {
  const m = state && state.modal;
  if (!m) return;
  const values = {};
  for (const i of $("modal-body").querySelectorAll("[data-block]")) {
    values[i.dataset.block] = values[i.dataset.block] || {};
    values[i.dataset.block][i.dataset.action] = i.value;
  }
  try {
    await api("/api/submit", { view_id: m.id, values });
    status("");
  } catch (err) {
    status("Submit failed: " + err.message, true);
  }
}

async function closeModal() {
  const m = state && state.modal;
  if (!m) return;
  try {
    await api("/api/close", { view_id: m.id });
  } catch (err) {
    status("Close failed: " + err.message, true);
  }
}

function select(id) {
  view = id;
  status("");
  const u = new URL(location.href);
  u.searchParams.set("view", id);
  u.searchParams.set("user", user);
  history.replaceState(null, "", u);
  if (id === "home") api("/api/home", {}).catch((err) => status("Could not open Home: " + err.message, true));
  render();
}

function connect() {
  if (source) source.close();
  localStorage.setItem("apppass-demo-user", user);
  source = new EventSource("/api/events?user=" + encodeURIComponent(user));
  source.onmessage = (ev) => {
    state = JSON.parse(ev.data);
    render();
  };
  source.onopen = () => { if ($("status").textContent.startsWith("Lost")) status(""); };
  source.onerror = () => status("Lost the connection to the demo; retrying…", true);
}

async function start() {
  let res = await fetch("/api/state?user=" + encodeURIComponent(user));
  if (!res.ok) {
    user = "UALICE";
    res = await fetch("/api/state?user=" + user);
  }
  if (res.ok) {
    state = await res.json();
    render();
  }
  $("who").addEventListener("change", (ev) => {
    user = ev.target.value;
    modalKey = "";
    if (!["home", "mailbox"].includes(view) && !view.startsWith("C")) view = "";
    connect();
  });
  $("composer").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("text");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    try {
      const res = await api("/api/command", { channel: view, text });
      if (res.notice) {
        status(res.notice.replaceAll("`", ""));
        input.value = text;
      } else status("");
    } catch (err) {
      status("Command failed: " + err.message, true);
      input.value = text;
    }
  });
  $("modal-submit").addEventListener("click", submitModal);
  $("modal-close").addEventListener("click", closeModal);
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") closeModal(); });
  if (view === "home") api("/api/home", {}).catch(() => {});
  // ?once=1 draws the page once without live updates, so that a headless
  // browser's --virtual-time-budget can settle (for screenshots).
  if (params.get("once") !== "1") connect();
}

start();
