// The dashboard: who is signed in, which region and view, and keeping the view live.

import { ApiError, currentUser, getJSON, isAdmin, signOut, watchChanges } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { DEFAULT_ENUMS, dateTime, ROLE_LABELS, TOPIC_LABELS, todayInShanghai } from "./format.js";
import { roundsView } from "./rounds.js";
import { openChart, overviewView, planView, plansView, scorecardView, signInPrompt, toggleChart } from "./views.js";

const REGION_KEY = "zhichan.region";
const $ = (id) => document.getElementById(id);

const regionNames = new Map();

const ctx = {
  user: null,
  enums: DEFAULT_ENUMS,
  region: "",
  asOf: "",
  openCharts: new Set(),
  regionName: (code) => regionNames.get(code) ?? code,
  toggleChart: (key) => currentPlan && toggleChart(ctx, currentPlan, key),
  notify: (message) => showNotice(message),
  refresh: (fresh) => refresh(fresh),
};
let currentPlan = null; // the plan view on screen, for opening charts in place
let routeShown = null; // the route whose view is on screen

function route() {
  const [name = "", ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const arg = decodeURIComponent(rest.join("/"));
  if (name === "plan" && arg) return { name: "plan", arg };
  if (name === "region" && arg) return { name: "overview", arg };
  if (name === "scorecard" || name === "plans") return { name, arg: "" };
  if (name === "rounds") return { name, arg };
  return { name: ctx.user ? "overview" : "plans", arg: "" };
}

function routeKey(r) {
  return `${r.name}/${r.arg}/${ctx.region}/${ctx.asOf}`;
}

function showNotice(message) {
  const notice = h("p", { class: "notice", role: "alert" }, message);
  document.querySelector("main").prepend(notice);
  setTimeout(() => notice.remove(), 6000);
}

// --- who and where -----------------------------------------------------------------------------

function showUser() {
  const box = $("user");
  const user = ctx.user;
  if (!user) {
    const stale = currentUser();
    const label = stale?.expired ? "登录已过期" : stale?.invalid ? "令牌无效" : "未登录";
    replaceChildren(box, h("span", { id: "user-name" }, label), h("a", { href: "/signin", id: "signin-link" }, "登录"));
    return;
  }
  const regions = isAdmin(user) ? "全部地区" : user.regions.map(ctx.regionName).join("、");
  replaceChildren(
    box,
    h(
      "span",
      { id: "user-name", "data-regions": user.regions.join(","), title: user.sub },
      `${user.sub} · ${user.roles.map((r) => ROLE_LABELS[r] ?? r).join("、")} · ${regions}`,
    ),
    h(
      "button",
      {
        type: "button",
        id: "signout",
        onclick: () => {
          signOut();
          location.assign("/");
        },
      },
      "退出",
    ),
  );
}

async function regionOptions() {
  const user = ctx.user;
  if (user && !isAdmin(user)) {
    // The user's own regions, each with the regions directly below it.
    const answers = await Promise.allSettled(
      user.regions.map((code) => getJSON(`/api/regions/${encodeURIComponent(code)}`, user)),
    );
    return answers.flatMap((answer, i) => {
      if (answer.status === "rejected") return [{ code: user.regions[i], name: user.regions[i], depth: 0 }];
      const region = answer.value.body;
      return [
        { code: region.code, name: region.name, depth: 0 },
        ...region.children.map((child) => ({ code: child.code, name: child.name, depth: 1 })),
      ];
    });
  }
  if (user) {
    const scorecard = (await getJSON("/api/progress/scorecard", user)).body;
    return scorecard.items.map((row) => ({ code: row.region, name: row.name ?? row.region, depth: 0 }));
  }
  // Not signed in: the regions of the published plans.
  const plans = (await getJSON("/api/progress/plans", null)).body.items;
  const seen = new Map(plans.map((p) => [p.region, p.region_name ?? p.region]));
  return [{ code: "", name: "全部地区", depth: 0 }, ...[...seen].map(([code, name]) => ({ code, name, depth: 0 }))];
}

async function loadRegions() {
  const picker = $("region-picker");
  let options = [];
  try {
    options = await regionOptions();
  } catch (error) {
    showNotice(`无法加载地区:${error.message}`);
  }
  for (const option of options) if (option.code) regionNames.set(option.code, option.name);
  replaceChildren(
    picker,
    options.map((o) =>
      h("option", { value: o.code, "data-depth": o.depth }, `${o.depth ? "\u3000└ " : ""}${o.name}`),
    ),
  );
  const saved = localStorage.getItem(REGION_KEY);
  const codes = options.map((o) => o.code);
  ctx.region = codes.includes(saved) ? saved : (codes[0] ?? "");
  picker.value = ctx.region;
}

async function loadEnums() {
  try {
    const labels = (await getJSON("/api/meta/targets/enums", null)).body;
    ctx.enums = { ...DEFAULT_ENUMS, ...labels };
  } catch {
    // the built-in labels will do
  }
}

// --- freshness ---------------------------------------------------------------------------------

function showFreshness(freshness) {
  const box = $("freshness-topics");
  if (!freshness) {
    replaceChildren(box);
    return;
  }
  const order = Object.keys(TOPIC_LABELS);
  const rank = (topic) => (order.includes(topic) ? order.indexOf(topic) : order.length);
  const topics = Object.entries(freshness.topics).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
  replaceChildren(
    box,
    freshness.consumer_assigned ? null : h("span", { class: "warn", id: "not-consuming" }, "读模型暂未接入消息总线"),
    topics.map(([topic, info]) =>
      h(
        "span",
        {
          class: info.lag ? "topic lagging" : "topic",
          "data-topic": topic,
          "data-lag": info.lag,
          title: info.last_event_type ?? "",
        },
        `${TOPIC_LABELS[topic] ?? topic}:${info.last_event_time ? dateTime(info.last_event_time) : "尚无事件"}`,
        info.lag ? `(落后 ${info.lag} 条)` : "",
      ),
    ),
    h("span", { id: "refreshed-at" }, `页面更新于 ${dateTime(new Date().toISOString())}`),
  );
}

// --- drawing the view --------------------------------------------------------------------------

function markTab(name) {
  for (const tab of document.querySelectorAll("#tabs a")) {
    tab.classList.toggle("active", tab.dataset.tab === name || (name === "plan" && tab.dataset.tab === "plans"));
  }
}

// A region named in the address becomes the picked one, when it is one of the picker's.
function followRoute(r) {
  const picker = $("region-picker");
  if (r.name !== "overview" || !r.arg || r.arg === ctx.region) return;
  if ([...picker.options].some((o) => o.value === r.arg)) {
    ctx.region = r.arg;
    picker.value = r.arg;
    localStorage.setItem(REGION_KEY, r.arg);
  }
}

async function draw(fresh) {
  const r = route();
  followRoute(r);
  const key = routeKey(r);
  fresh = fresh || key !== routeShown;
  markTab(r.name);
  let result;
  if (r.name === "plan") {
    if (fresh && currentPlan?.plan.key !== r.arg) ctx.openCharts.clear();
    result = await planView(ctx, fresh, r.arg);
    if (result.plan) currentPlan = result.plan;
  } else if (r.name === "overview") {
    result = await overviewView(ctx, fresh, r.arg || ctx.region);
  } else if (r.name === "scorecard") {
    result = await scorecardView(ctx, fresh);
  } else if (r.name === "rounds") {
    result = await roundsView(ctx, fresh, r.arg, signInPrompt);
  } else {
    result = await plansView(ctx, fresh);
  }
  showFreshness(result.freshness);
  if (result.node) {
    const scroll = window.scrollY;
    replaceChildren($("view"), result.node);
    window.scrollTo(0, scroll);
    routeShown = key;
    // Charts opened while this view was loading: open them in the view now on screen.
    if (result.plan) for (const chart of ctx.openCharts) openChart(ctx, result.plan, chart);
  }
}

function drawError(error) {
  if (error instanceof ApiError && error.status === 401) {
    signOut();
    ctx.user = null;
    showUser();
    replaceChildren($("view"), signInPrompt("登录已失效,请重新登录。"));
  } else if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
    const why = error.status === 403 ? "该地区不在您的权限范围内。" : "找不到要查看的内容,或您无权查看。";
    replaceChildren($("view"), h("p", { class: "error", id: "view-error", "data-status": error.status }, why));
  } else {
    // The gateway may be restarting: keep what is on screen, say so, and try again on the next change.
    showNotice(`暂时无法连接网关:${error.message}`);
    return;
  }
  routeShown = null;
}

// One drawing at a time; a change that arrives meanwhile is drawn right after.
let drawing = null;
let pending = null;

function refresh(fresh = false) {
  if (drawing) {
    pending = { fresh: Boolean(pending?.fresh) || fresh };
    return drawing;
  }
  drawing = draw(fresh)
    .catch(drawError)
    .finally(() => {
      drawing = null;
      document.body.dataset.ready = "true";
      if (pending) {
        const next = pending;
        pending = null;
        refresh(next.fresh);
      }
    });
  return drawing;
}

// --- start -------------------------------------------------------------------------------------

async function start() {
  const user = currentUser();
  ctx.user = user?.token ? user : null;
  const asOf = $("as-of");
  asOf.max = todayInShanghai();
  asOf.addEventListener("change", () => {
    ctx.asOf = asOf.value;
    refresh(true);
  });
  $("region-picker").addEventListener("change", (event) => {
    ctx.region = event.target.value;
    localStorage.setItem(REGION_KEY, ctx.region);
    const r = route();
    if (ctx.user && r.name !== "scorecard") location.hash = `#/region/${encodeURIComponent(ctx.region)}`;
    else if (!ctx.user && r.name !== "plans") location.hash = "#/plans";
    else refresh(true);
  });
  window.addEventListener("hashchange", () => refresh(true));
  await Promise.all([loadRegions(), loadEnums()]);
  showUser();
  await refresh(true);
  // A hidden tab does not poll; it catches up when shown again.
  watchChanges(() => document.hidden || refresh(false));
  document.addEventListener("visibilitychange", () => document.hidden || refresh(false));
}

start();
