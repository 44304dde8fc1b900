// The web client (specs/web.md): sign-in, the user's phone with its calls and the services the
// node allows on each, favourites with busy lamps and presence, own presence, directory search
// and the journal. Everything comes from the public MQTT contract (specs/mqtt.md); the node
// enforces every rule, this page only shows and asks.
import * as chat from "./chat";
import { byId, h, replace } from "./dom";
import * as i18n from "./i18n";
import { t } from "./i18n";
import { callEvents, ladder, stateAt } from "./ladder";
import { checkDial } from "./numbers";
import {
  type Config,
  type Doc,
  fallbacks,
  type Json,
  Refused,
  Session,
  type SessionState,
} from "./session";

interface View {
  device: Doc | null;
  lamps: Map<string, Doc>;
  presence: Map<string, Doc>;
  own: Doc | null;
  favourites: Doc | null;
  journal: Doc | null;
  journalFolder: string;
  journalEntries: Doc[];
  events: Doc[];
  nodeOnline: boolean;
  voicemail: string | null; // the user's mailbox, from the status forwarding targets
  ringingFrom: Map<number, string>; // call -> caller, from the own device's events
  callers: Map<number, string>; // call -> the caller's name from the user's directories
}

// The user's mailbox (getMailbox; VM-01/02); null: none (no voicemail licence) or not yet.
let mailbox: Doc | null = null;
let waitingNew: number | null = null; // the new-message count of the last messageWaiting
const audioUrls = new Map<number, string>(); // message -> a blob: URL of its stored WAV
const audioSha = new Map<number, string>(); // message -> the SHA-256 checked in the page
const VOICEMAIL_EVENTS = new Set([
  "messageRecorded",
  "messageMoved",
  "messageDeleted",
  "messageWaiting",
  "voicemailSettingsSet",
]);
let profile: Doc | null = null; // getProfile: the e-mail address and voicemail to e-mail (VM-07)

let conferences: Doc | null = null; // the user's retained conferences document (CONF-04)
const invitations = new Map<number, string>(); // conference -> the invitation text asked for

interface ChatView {
  conversations: Map<string, chat.Conversation>;
  messages: Map<string, Doc[]>; // partner -> messages held, by seq
  online: Map<string, boolean>; // from the node's retained online documents (IM-01)
  open: string | null; // the partner of the dialogue shown
  pending: { to: string; text: string; clientId: string } | null; // a send to retry as is
  error: string;
}

const chats: ChatView = {
  conversations: new Map(),
  messages: new Map(),
  online: new Map(),
  open: null,
  pending: null,
  error: "",
};

let config: Config;
let operator: boolean | null = null; // whether `trace` answers this account (null: not asked)
let session: Session | null = null;
let me = "";
const view: View = {
  device: null,
  lamps: new Map(),
  presence: new Map(),
  own: null,
  favourites: null,
  journal: null,
  journalFolder: "all",
  journalEntries: [],
  events: [],
  nodeOnline: true,
  voicemail: null,
  ringingFrom: new Map(),
  callers: new Map(),
};

const str = (v: Json | undefined): string => (v === null || v === undefined ? "" : String(v));

function announce(text: string): void {
  byId("announce").textContent = text;
}

function showError(e: unknown): void {
  const message =
    e instanceof Refused ? `${t("refused")}${e.code}${e.message ? ` (${e.message})` : ""}` : String(e);
  announce(message);
  const el = document.getElementById("error");
  if (el !== null) el.textContent = message;
}

async function ask(service: string, fields: Doc, secure = false): Promise<Json | undefined> {
  if (session === null) return undefined;
  const el = document.getElementById("error");
  if (el !== null) el.textContent = "";
  try {
    return await session.request(service, fields, secure);
  } catch (e) {
    showError(e);
    return undefined;
  }
}

// ---------------------------------------------------------------- sign-in and password change

function renderSignIn(message = "", code = ""): void {
  const number = h("input", {
    id: "signin-number",
    name: "username",
    autocomplete: "username",
    inputmode: "numeric",
    required: true,
  });
  const password = h("input", {
    id: "signin-password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  // The broker's CONNACK reason code, for whoever debugs a refused sign-in.
  const error = h("p", { id: "signin-error", role: "alert", class: "error", "data-code": code }, message);
  const form = h(
    "form",
    { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, t("title")),
    h("label", { for: "signin-number" }, t("number")),
    number,
    h("label", { for: "signin-password" }, t("password")),
    password,
    error,
    h("button", { type: "submit", id: "signin-submit" }, t("signIn")),
    languagePicker(() => renderSignIn()),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void signIn(number.value.trim(), password.value);
  });
  replace(byId("app"), form);
  number.focus();
}

async function signIn(user: string, password: string): Promise<void> {
  session?.close();
  me = user;
  chats.conversations.clear();
  chats.messages.clear();
  chats.open = null;
  chats.pending = null;
  chats.error = "";
  operator = null;
  conferences = null;
  invitations.clear();
  partnerNames.clear();
  mailbox = null;
  profile = null;
  waitingNew = null;
  for (const url of audioUrls.values()) URL.revokeObjectURL(url);
  audioUrls.clear();
  audioSha.clear();
  const s = new Session(config, user, password, {
    state: (state, why) => {
      showState(state, why);
      // Every (re)connect: the conversations anew, the open dialogue from its last seq.
      if (state === "online" && document.getElementById("chat") !== null) {
        void refreshChat();
        void loadMailbox();
      }
    },
    retained: (topic, doc) => onRetained(topic, doc),
    event: (doc) => onEvent(doc),
    chat: (doc) => onChat(doc),
  });
  session = s;
  try {
    await s.start();
  } catch (e) {
    session = null;
    const code = e instanceof Refused ? String(e.details?.["reasonCode"] ?? "") : "";
    renderSignIn(t("wrongPassword"), code);
    return;
  }
  try {
    await s.request("getProfile", { name: user });
  } catch (e) {
    if (e instanceof Refused && e.code === "passwordChangeRequired") {
      renderChangePassword(password);
      return;
    }
  }
  renderMain();
}

function renderChangePassword(current: string, message = ""): void {
  const field = (id: string, key: i18n.Key, autocomplete: string) => [
    h("label", { for: id }, t(key)),
    h("input", { id, type: "password", autocomplete, required: true }),
  ];
  const form = h(
    "form",
    { class: "card signin", "aria-labelledby": "change-title" },
    h("h1", { id: "change-title" }, t("changeTitle")),
    h("p", {}, t("changeWhy")),
    ...field("change-new", "newPassword", "new-password"),
    ...field("change-repeat", "repeatPassword", "new-password"),
    h("p", { id: "change-error", role: "alert", class: "error" }, message),
    h("button", { type: "submit", id: "change-submit" }, t("change")),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const next = byId<HTMLInputElement>("change-new").value;
    if (next !== byId<HTMLInputElement>("change-repeat").value) {
      byId("change-error").textContent = t("notSame");
      return;
    }
    void changePassword(current, next);
  });
  replace(byId("app"), form);
  byId("change-new").focus();
  if (!config.secureRequests) byId("change-error").textContent = t("changeNeedsTls");
}

async function changePassword(current: string, next: string): Promise<void> {
  const s = session;
  if (s === null) return;
  try {
    await s.request("changePassword", { oldPassword: current, newPassword: next }, true);
  } catch (e) {
    if (e instanceof Refused && e.code === "passwordPolicy") {
      const failed = (e.details?.["failed"] ?? []) as string[];
      const rules = failed.map((rule) => t(`policy_${rule}` as i18n.Key)).join(", ");
      renderChangePassword(current, t("policyFailed") + rules);
    } else {
      renderChangePassword(current, e instanceof Refused ? `${e.code}: ${e.message}` : String(e));
    }
    return;
  }
  // The broker ends this session on the password change (specs/security.md): sign in anew.
  await signIn(me, next);
}

function languagePicker(rerender: () => void): HTMLElement {
  const select = h(
    "select",
    { id: "language", "aria-label": t("language") },
    h("option", { value: "de", selected: i18n.lang === "de" }, "Deutsch"),
    h("option", { value: "en", selected: i18n.lang === "en" }, "English"),
    h("option", { value: "nl", selected: i18n.lang === "nl" }, "Nederlands"),
  );
  select.addEventListener("change", () => {
    i18n.setLang(i18n.chooseLang(select.value, []));
    rerender();
  });
  return select;
}

// ---------------------------------------------------------------- the main view

function renderMain(): void {
  const dial = h("input", {
    id: "dial",
    type: "tel",
    autocomplete: "off",
    "aria-describedby": "dial-hint",
  });
  const hint = h("p", { id: "dial-hint", class: "hint", "aria-live": "polite" });
  dial.addEventListener("input", () => dialHint());
  const dialForm = h(
    "form",
    { class: "dial" },
    h("label", { for: "dial" }, t("dial")),
    h("div", { class: "row" }, dial, h("button", { type: "submit", id: "dial-call" }, t("call"))),
    hint,
  );
  dialForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const check = checkDial(dial.value);
    if (check.kind === "empty" || check.kind === "invalid") {
      dialHint();
      return;
    }
    void ask("makeCall", { calling: me, called: dial.value.trim() });
  });
  const search = h("input", { id: "search", type: "search", autocomplete: "off" });
  let timer: number | null = null;
  search.addEventListener("input", () => {
    if (timer !== null) window.clearTimeout(timer);
    timer = window.setTimeout(() => void runSearch(search.value), 150);
  });
  replace(
    byId("app"),
    h(
      "header",
      {},
      h("h1", {}, t("title")),
      h("span", { id: "who" }, me),
      h("span", { id: "connection", role: "status" }, t("connecting")),
      languagePicker(() => renderMain()),
      h(
        "button",
        {
          type: "button",
          id: "signout",
          onclick: () => {
            session?.close();
            session = null;
            renderSignIn();
          },
        },
        t("signOut"),
      ),
    ),
    h("p", { id: "error", role: "alert", class: "error" }),
    h(
      "main",
      {},
      h(
        "section",
        { "aria-labelledby": "phone-title", id: "phone" },
        h("h2", { id: "phone-title" }, t("phone"), " ", h("span", { id: "my-summary" })),
        dialForm,
        h("ul", { id: "calls", class: "calls" }),
      ),
      h(
        "section",
        { "aria-labelledby": "fav-title", id: "favourites" },
        h("h2", { id: "fav-title" }, t("favourites")),
        h("ul", { id: "fav-list", class: "favs" }),
      ),
      h(
        "section",
        { "aria-labelledby": "presence-title", id: "presence" },
        h("h2", { id: "presence-title" }, t("presence")),
        presenceForm(),
        forwardingForm(),
      ),
      h(
        "section",
        { "aria-labelledby": "dir-title", id: "directory" },
        h("h2", { id: "dir-title" }, t("directory")),
        h("label", { for: "search" }, t("search")),
        search,
        h("ul", { id: "hits", class: "hits", "aria-live": "polite" }),
      ),
      chatSection(),
      conferenceSection(),
      voicemailSection(),
      h(
        "section",
        { "aria-labelledby": "journal-title", id: "journal" },
        h("h2", { id: "journal-title" }, t("journal")),
        h("div", { id: "folders", role: "group", "aria-label": t("journal") }),
        h("ul", { id: "journal-entries", class: "entries" }),
      ),
      h(
        "section",
        { "aria-labelledby": "trace-title", id: "trace" },
        h("h2", { id: "trace-title" }, t("trace")),
        traceForm(),
        h("div", { id: "ladder", class: "ladder" }),
        pastForm(),
        h("ul", { id: "past", class: "past", "aria-live": "polite" }),
      ),
      h(
        "section",
        { "aria-labelledby": "events-title", id: "activity" },
        h("h2", { id: "events-title" }, t("events")),
        h("ol", { id: "events", class: "events" }),
      ),
    ),
  );
  // Three columns that grow independently (a tall panel leaves no gaps beside it); one
  // column below 900 px, in this order; the ladder across the whole width.
  const main = document.querySelector("main");
  if (main !== null) {
    const columns = [
      ["phone", "chat", "voicemail", "activity"],
      ["favourites", "directory", "journal"],
      ["presence", "conferences"],
    ];
    main.replaceChildren(
      ...columns.map((ids) => h("div", { class: "col" }, ...ids.map((id) => byId(id)))),
      byId("trace"),
    );
  }
  showState(session?.state ?? "connecting");
  renderPhone();
  renderFavourites();
  renderOwnPresence();
  renderJournal();
  renderEvents();
  renderChat();
  renderConferences();
  renderVoicemail();
  void loadMailbox();
  void loadJournal(view.journalFolder);
  void loadForwarding();
  void refreshChat();
}

function dialHint(): void {
  const input = document.getElementById("dial") as HTMLInputElement | null;
  const hint = document.getElementById("dial-hint");
  if (input === null || hint === null) return;
  const check = checkDial(input.value);
  hint.className = check.kind === "invalid" ? "hint error" : "hint";
  hint.textContent =
    check.kind === "empty"
      ? t("dialEmpty")
      : check.kind === "invalid"
        ? t("dialInvalid") + check.bad
        : check.kind === "internal"
          ? t("dialInternal")
          : t("dialExternal");
  input.setAttribute("aria-invalid", String(check.kind === "invalid"));
}

function showState(state: SessionState, _why?: string): void {
  if (state === "refused" && document.getElementById("connection") !== null) {
    // A reconnect refused: the password was changed or reset elsewhere, or the account removed.
    session = null;
    renderSignIn(t("wrongPassword"), _why ?? "");
    return;
  }
  const el = document.getElementById("connection");
  if (el === null) return;
  const text = state === "online" ? t("online") : state === "offline" ? t("offline") : t("connecting");
  el.textContent = view.nodeOnline || state !== "online" ? text : t("nodeOffline");
  el.dataset["state"] = view.nodeOnline ? state : "nodeOffline";
  el.dataset["connects"] = String(session?.connects ?? 0); // for the browser tests
}

// ---------------------------------------------------------------- state from the broker

function onRetained(topic: string, doc: Doc | null): void {
  const base = `cti/${config.node}`;
  const rest = topic.slice(base.length + 1);
  const parts = rest.split("/");
  if (rest === "status") {
    view.nodeOnline = doc !== null && doc["state"] === "online";
    showState(session?.state ?? "connecting");
  } else if (parts[0] === "lamps" && parts[1] !== undefined) {
    if (doc === null) view.lamps.delete(parts[1]);
    else view.lamps.set(parts[1], doc);
    renderFavourites();
  } else if (parts[0] === "presence" && parts[1] !== undefined) {
    if (doc === null) view.presence.delete(parts[1]);
    else view.presence.set(parts[1], doc);
    renderFavourites();
  } else if (parts[0] === "devices" && parts[2] === "state") {
    view.device = doc;
    renderPhone();
  } else if (parts[0] === "users" && parts[2] === "presence") {
    view.own = doc;
    renderOwnPresence();
  } else if (parts[0] === "users" && parts[2] === "favourites") {
    view.favourites = doc;
    renderFavourites();
  } else if (parts[0] === "users" && parts[2] === "callers") {
    view.callers = new Map(
      ((doc?.["calls"] ?? []) as Doc[])
        .filter((c) => typeof c["name"] === "string")
        .map((c) => [c["call"] as number, str(c["name"])]),
    );
    renderPhone();
  } else if (parts[0] === "users" && parts[2] === "conferences") {
    conferences = doc;
    renderConferences();
  } else if (parts[0] === "online" && parts[1] !== undefined) {
    chats.online.set(parts[1], doc !== null && doc["online"] === true);
    renderChat();
  } else if (parts[0] === "users" && parts[2] === "journal") {
    view.journal = doc;
    renderJournal();
    void loadJournal(view.journalFolder);
  }
}

const seenSeqs: number[] = [];

function onEvent(doc: Doc): void {
  seenSeqs.push(doc["seq"] as number);
  if (doc["event"] === "delivered" && doc["alerting"] === me) {
    // The device's own events carry the caller (the state hides it from others, CALL-10).
    view.ringingFrom.set(doc["call"] as number, str(doc["calling"]));
    renderPhone();
  }
  if (VOICEMAIL_EVENTS.has(str(doc["event"])) && doc["mailbox"] === me) {
    // The badge follows messageWaiting at once (the same count drives the phone's lamp).
    if (doc["event"] === "messageWaiting") waitingNew = doc["new"] as number;
    renderVoicemail();
    void loadMailbox();
  }
  view.events.push(doc);
  view.events.sort((a, b) => (a["seq"] as number) - (b["seq"] as number));
  if (view.events.length > 200) view.events.splice(0, view.events.length - 200);
  renderEvents();
}

// ---------------------------------------------------------------- the phone

const CALL_DEVICE = new Set(["answerCall", "clearConnection", "holdCall", "retrieveCall"]);
const TWO_CALLS = new Set(["alternateCall", "transferCall", "conferenceCall", "reconnectCall"]);
const NEEDS_NUMBER: Record<string, string> = {
  consultationCall: "consulted",
  singleStepTransferCall: "to",
  deflectCall: "to",
};

function fieldsFor(serviceName: string, connection: Doc): Doc | null {
  const call = connection["call"] as number;
  const device = str(connection["via"]) || me;
  if (CALL_DEVICE.has(serviceName)) return { call, device };
  if (serviceName === "clearCall") return { call };
  if (TWO_CALLS.has(serviceName)) return { device };
  const field = NEEDS_NUMBER[serviceName];
  if (field !== undefined) {
    const dial = byId<HTMLInputElement>("dial");
    const check = checkDial(dial.value);
    if (check.kind === "empty" || check.kind === "invalid") {
      dialHint();
      dial.focus();
      return null;
    }
    return { call, device, [field]: dial.value.trim() };
  }
  return null;
}

function renderPhone(): void {
  const list = document.getElementById("calls");
  if (list === null) return;
  const doc = view.device;
  const summaryText = i18n.summary(str(doc?.["summary"]) || "idle");
  const mine = document.getElementById("my-summary");
  if (mine !== null) mine.textContent = `· ${summaryText}`;
  const connections = (doc?.["connections"] ?? []) as Doc[];
  if (connections.length === 0) {
    replace(list, h("li", { class: "empty" }, t("noCalls")));
    return;
  }
  replace(
    list,
    ...connections.map((c) => {
      const call = c["call"] as number;
      const state = str(c["state"]);
      const parties = (c["parties"] ?? []) as string[];
      const caller = view.ringingFrom.get(call);
      const callerName = view.callers.get(call);
      const peer =
        state === "alerting" && c["peer"] === null
          ? caller === undefined
            ? t("hidden")
            : [callerName, caller].filter(Boolean).join(" · ")
          : c["peer"] === null && parties.length > 1
            ? `${t("conference")}: ${parties.join(", ")}`
            : [str(c["peerName"]), str(c["peer"])].filter(Boolean).join(" · ");
      const allowed = (c["allowed"] ?? []) as string[];
      return h(
        "li",
        { class: `call ${state}`, "data-call": call, "data-state": state },
        h(
          "div",
          { class: "call-head" },
          h("span", { class: "peer" }, peer),
          " ",
          h("span", { class: "call-id" }, `#${call}`),
          " ",
          h("span", { class: "state" }, i18n.connectionState(state)),
        ),
        h(
          "div",
          { class: "buttons", role: "group", "aria-label": `${t("call")} ${call}` },
          ...allowed.flatMap((name) => {
            const button = h(
              "button",
              {
                type: "button",
                "data-service": name,
                onclick: () => {
                  const fields = fieldsFor(name, c);
                  if (fields !== null) void ask(name, fields);
                },
              },
              i18n.service(name),
            );
            if (name !== "deflectCall" || view.voicemail === null || state !== "alerting") {
              return [button];
            }
            const to = view.voicemail;
            const device = str(c["via"]) || me;
            const mailbox = h(
              "button",
              {
                type: "button",
                "data-service": "deflectCall",
                "data-to": to,
                onclick: () => void ask("deflectCall", { call, device, to }),
              },
              t("toVoicemail"),
            );
            return [button, mailbox];
          }),
        ),
      );
    }),
  );
}

// ---------------------------------------------------------------- favourites and busy lamps

function lampOf(device: string): string {
  const lamp = view.lamps.get(device);
  if (lamp === undefined) return "offline";
  if (lamp["dnd"] === true && lamp["summary"] === "idle") return "dnd";
  return str(lamp["summary"]) || "idle";
}

function renderFavourites(): void {
  const list = document.getElementById("fav-list");
  if (list === null) return;
  const groups = (view.favourites?.["groups"] ?? []) as Doc[];
  const entries = groups.flatMap((g) => (g["entries"] ?? []) as Doc[]);
  if (entries.length === 0) {
    replace(list, h("li", { class: "empty" }, t("noFavourites")));
    return;
  }
  replace(
    list,
    ...entries.map((e) => {
      const devices = (e["devices"] ?? []) as string[];
      const device = devices[0];
      const number = str(e["number"]) || str(e["user"]) || str(device);
      const lamp = device === undefined ? null : lampOf(device);
      const presence = e["user"] === undefined ? undefined : view.presence.get(str(e["user"]));
      const absent = presence !== undefined && presence["visible"] === true && presence["status"] !== "office";
      const ringing = lamp !== null && lamp.startsWith("incoming");
      return h(
        "li",
        { class: "fav", "data-number": number, "data-lamp": lamp ?? "none" },
        lamp === null ? null : h("span", { class: `lamp ${lamp}`, "aria-hidden": "true" }),
        h("span", { class: "name" }, str(e["name"]) || number),
        " ",
        lamp === null ? null : h("span", { class: "lamp-text" }, i18n.summary(lamp)),
        absent && presence !== undefined
          ? h(
              "span",
              { class: "presence" },
              i18n.status(str(presence["status"])),
              typeof presence["returnAt"] === "number"
                ? ` · ${t("returnAt")} ${i18n.time(presence["returnAt"])}`
                : "",
              presence["info"] ? ` · ${str(presence["info"])}` : "",
            )
          : null,
        h(
          "span",
          { class: "buttons" },
          h(
            "button",
            {
              type: "button",
              "aria-label": `${t("call")} ${str(e["name"]) || number}`,
              onclick: () => void ask("makeCall", { calling: me, called: number }),
            },
            t("call"),
          ),
          typeof e["user"] === "string"
            ? h(
                "button",
                {
                  type: "button",
                  "data-chat": str(e["user"]),
                  "aria-label": `${t("chat")}: ${str(e["name"]) || number}`,
                  onclick: () => void openDialogue(str(e["user"])),
                },
                t("chat"),
              )
            : null,
          ringing && device !== undefined
            ? h(
                "button",
                {
                  type: "button",
                  "aria-label": `${t("pickup")} ${str(e["name"])}`,
                  "data-service": "directedPickupCall",
                  onclick: () => void ask("directedPickupCall", { picked: device, device: me }),
                },
                t("pickup"),
              )
            : null,
        ),
      );
    }),
  );
}

// ---------------------------------------------------------------- own presence

function presenceForm(): HTMLElement {
  const select = h(
    "select",
    { id: "presence-status" },
    ...i18n.STATUSES.map((s) => h("option", { value: s }, i18n.status(s))),
  );
  const form = h(
    "form",
    { class: "presence-form" },
    h("p", { id: "presence-now", "aria-live": "polite" }),
    h("label", { for: "presence-status" }, t("status")),
    select,
    h("label", { for: "presence-return" }, t("returnAt")),
    h("input", { id: "presence-return", type: "datetime-local" }),
    h("label", { for: "presence-info" }, t("info")),
    h("input", { id: "presence-info", maxlength: 100 }),
    h("button", { type: "submit", id: "presence-save" }, t("save")),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const back = byId<HTMLInputElement>("presence-return").value;
    const info = byId<HTMLInputElement>("presence-info").value.trim();
    void ask("setPresence", {
      user: me,
      status: select.value,
      returnAt: back === "" ? null : new Date(back).getTime(),
      info: info === "" ? null : info,
    });
  });
  return form;
}

function renderOwnPresence(): void {
  const now = document.getElementById("presence-now");
  if (now === null || view.own === null) return;
  const status = str(view.own["status"]) || "office";
  const back = view.own["returnAt"];
  now.textContent =
    i18n.status(status) +
    (typeof back === "number" ? ` · ${t("returnAt")} ${i18n.time(back)}` : "") +
    (view.own["info"] ? ` · ${str(view.own["info"])}` : "");
  const select = document.getElementById("presence-status") as HTMLSelectElement | null;
  if (select !== null && document.activeElement !== select) select.value = status;
}

function forwardingForm(): HTMLElement {
  const status = h(
    "select",
    { id: "fwd-status" },
    ...i18n.STATUSES.filter((s) => s !== "office" && s !== "doNotDisturb").map((s) =>
      h("option", { value: s }, i18n.status(s)),
    ),
  );
  const target = h(
    "select",
    { id: "fwd-target" },
    ...["voicemail", "mobile", "external", "number"].map((s) => h("option", { value: s }, i18n.target(s))),
  );
  const number = h("input", { id: "fwd-number", type: "tel" });
  const form = h(
    "form",
    { class: "forwarding" },
    h("h3", {}, t("forwardingFor")),
    h("label", { for: "fwd-status" }, t("fwdStatus")),
    status,
    h("label", { for: "fwd-target" }, t("target")),
    target,
    h("label", { for: "fwd-number" }, t("fwdNumber")),
    number,
    h("button", { type: "submit" }, t("save")),
    h("ul", { id: "fwd-list" }),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const fields: Doc = { user: me, status: status.value, target: target.value };
    if (target.value === "number") fields["number"] = number.value.trim();
    void ask("setPresenceForwarding", fields).then(() => loadForwarding());
  });
  return form;
}

async function loadForwarding(): Promise<void> {
  const result = (await ask("getPresenceForwarding", { user: me })) as Doc[] | undefined;
  const list = document.getElementById("fwd-list");
  if (list === null || !Array.isArray(result)) return;
  const mailbox = result.find((r) => r["target"] === "voicemail" && typeof r["number"] === "string");
  view.voicemail = mailbox === undefined ? null : str(mailbox["number"]);
  renderPhone();
  replace(
    list,
    ...result.map((r) =>
      h("li", {}, `${i18n.status(str(r["status"]))} → ${i18n.target(str(r["target"]))} ${str(r["number"])}`),
    ),
  );
}

// ---------------------------------------------------------------- directory

async function runSearch(text: string): Promise<void> {
  const list = document.getElementById("hits");
  if (list === null) return;
  if (text.trim() === "") {
    replace(list);
    return;
  }
  const result = (await ask("searchDirectory", { user: me, text, limit: 20 })) as Doc | undefined;
  if (result === undefined || result["text"] !== text) return; // a later key press won
  const hits = (result["hits"] ?? []) as Doc[];
  if (hits.length === 0) {
    replace(list, h("li", { class: "empty" }, t("noHits")));
    return;
  }
  replace(
    list,
    ...hits.map((hit) =>
      h(
        "li",
        { class: "hit", "data-id": str(hit["id"]) },
        h("span", { class: "name" }, str(hit["name"])),
        ...((hit["numbers"] ?? []) as Doc[]).map((n) =>
          h(
            "button",
            {
              type: "button",
              "aria-label": `${t("call")} ${str(hit["name"])} ${str(n["number"])}`,
              onclick: () => void ask("makeCall", { calling: me, called: str(n["number"]) }),
            },
            str(n["number"]),
          ),
        ),
        hit["directory"] === "internal" && hit["kind"] === "user"
          ? h(
              "button",
              {
                type: "button",
                class: "add-fav",
                "aria-label": `${t("addFavourite")}: ${str(hit["name"])}`,
                onclick: () => void addFavourite(str(hit["id"])),
              },
              "☆ ",
              t("addFavourite"),
            )
          : null,
      ),
    ),
  );
}

async function addFavourite(colleague: string): Promise<void> {
  const groups = (view.favourites?.["groups"] ?? []) as Doc[];
  const first = groups[0];
  const fields: Doc =
    first === undefined
      ? { user: me, groupName: t("favourites"), colleague }
      : { user: me, group: first["id"] as number, colleague };
  await ask("addFavourite", fields);
}

// ---------------------------------------------------------------- journal

const FOLDERS = ["open", "missed", "answered", "all"];

function renderJournal(): void {
  const folders = document.getElementById("folders");
  if (folders === null) return;
  const counts = view.journal ?? {};
  replace(
    folders,
    ...FOLDERS.map((f) =>
      h(
        "button",
        {
          type: "button",
          "data-folder": f,
          "aria-pressed": String(view.journalFolder === f),
          onclick: () => void loadJournal(f),
        },
        `${i18n.folder(f)} `,
        h("span", { class: "count" }, i18n.count(Number(counts[f] ?? 0))),
      ),
    ),
  );
  const entries = byId("journal-entries");
  replace(
    entries,
    ...view.journalEntries.map((e) => {
      const entry = e["entry"] as number;
      const note = h("input", {
        value: str(e["note"]),
        "aria-label": `${t("note")} ${entry}`,
        maxlength: 200,
      });
      const remind = h("input", { type: "datetime-local", "aria-label": `${t("remindAt")} ${entry}` });
      return h(
        "li",
        { class: `entry ${str(e["outcome"])}`, "data-entry": entry },
        h(
          "div",
          {},
          h("strong", {}, str(e["name"]) || str(e["number"])),
          ` ${str(e["number"])} · ${i18n.time(e["started"] as number)} · ${i18n.outcome(str(e["outcome"]))}`,
          e["remindAt"] ? ` · ⏰ ${i18n.time(e["remindAt"] as number)}` : "",
        ),
        h(
          "div",
          { class: "row" },
          note,
          remind,
          h(
            "button",
            {
              type: "button",
              onclick: () => {
                const fields: Doc = { user: me, entry, note: note.value.trim() || null };
                if (remind.value !== "") fields["remindAt"] = new Date(remind.value).getTime();
                void ask("setJournalNote", fields).then(() => loadJournal(view.journalFolder));
              },
            },
            t("save"),
          ),
          h(
            "button",
            { type: "button", onclick: () => void ask("callBackJournalEntry", { user: me, entry }) },
            t("callBack"),
          ),
          e["open"] === true
            ? h(
                "button",
                {
                  type: "button",
                  onclick: () =>
                    void ask("markJournalEntryDone", { user: me, entry }).then(() =>
                      loadJournal(view.journalFolder),
                    ),
                },
                t("done"),
              )
            : null,
        ),
      );
    }),
  );
}

async function loadJournal(folder: string): Promise<void> {
  view.journalFolder = folder;
  const result = (await ask("getJournal", { user: me, folder, limit: 20 })) as Doc | undefined;
  if (result === undefined || view.journalFolder !== folder) return;
  view.journalEntries = (result["entries"] ?? []) as Doc[];
  if (view.journal === null) view.journal = (result["counts"] ?? null) as Doc | null;
  renderJournal();
}

// ---------------------------------------------------------------- a call as a ladder

function traceForm(): HTMLElement {
  const input = h("input", { id: "trace-call", type: "number", min: 1, inputmode: "numeric" });
  const form = h(
    "form",
    { class: "row" },
    h("label", { for: "trace-call" }, t("traceCall")),
    input,
    h("button", { type: "submit", id: "trace-draw" }, t("draw")),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const call = Number(input.value);
    if (Number.isInteger(call) && call > 0) void drawLadder(call);
  });
  return h(
    "div",
    {},
    form,
    h("p", { class: "hint", id: "trace-hint" }, operator === true ? t("traceHintOperator") : t("traceHint")),
  );
}

/** Every event the account may see, from the log by `replay` (the node filters): fine for
 * an office's log; a long one takes a page of 1,000 per round trip. */
async function replayAll(until = Number.MAX_SAFE_INTEGER): Promise<Doc[]> {
  const all: Doc[] = [];
  let from = 1;
  while (from <= until) {
    const page = (await ask("replay", { fromSeq: from, limit: 1000 })) as Doc | undefined;
    if (page === undefined) break;
    all.push(...((page["events"] ?? []) as Doc[]));
    from = page["nextSeq"] as number;
    if (page["complete"] === true) break;
  }
  return all;
}

/** The operator view's query (`trace`, specs/mqtt.md#trace): one call's or one device's
 * events from the log, for administrators and monitors. null: this account may not (a user:
 * the page then replays the user's own devices' events instead). */
async function traceAll(what: Doc, until = Number.MAX_SAFE_INTEGER): Promise<Doc[] | null> {
  if (session === null || operator === false) return null;
  const all: Doc[] = [];
  let from = 1;
  while (from <= until) {
    let page: Doc;
    try {
      page = (await session.request("trace", { ...what, fromSeq: from, limit: 1000 })) as Doc;
    } catch (e) {
      if (e instanceof Refused && e.code === "notPermitted") {
        operator = false;
        traceHint();
        return null;
      }
      showError(e);
      break;
    }
    operator = true;
    all.push(...((page["events"] ?? []) as Doc[]));
    from = page["nextSeq"] as number;
    if (page["complete"] === true) break;
  }
  traceHint();
  return all;
}

/** A call's events and those of every consultation call merged into it, by `trace`. */
async function traceCall(call: number): Promise<Doc[] | null> {
  const bySeq = new Map<number, Doc>();
  const todo = [call];
  const done = new Set<number>();
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    done.add(next);
    const events = await traceAll({ call: next });
    if (events === null) return null;
    for (const e of events) {
      bySeq.set(e["seq"] as number, e);
      const merged = e["event"] === "transferred" || e["event"] === "conferenced";
      const other = e["secondaryCall"];
      if (merged && typeof other === "number" && !done.has(other)) todo.push(other);
    }
  }
  return [...bySeq.values()];
}

function traceHint(): void {
  const hint = document.getElementById("trace-hint");
  if (hint !== null) hint.textContent = operator === true ? t("traceHintOperator") : t("traceHint");
}

async function drawLadder(call: number): Promise<void> {
  const out = byId("ladder");
  out.setAttribute("aria-busy", "true");
  const events = callEvents((await traceCall(call)) ?? (await replayAll()), call);
  replace(out, ladder(call, events, `${t("trace")}: ${call}`));
  out.setAttribute("aria-busy", "false");
}

function pastForm(): HTMLElement {
  const device = h("input", { id: "past-device", type: "tel", value: me });
  const seq = h("input", { id: "past-seq", type: "number", min: 1, inputmode: "numeric" });
  const form = h(
    "form",
    { class: "row" },
    h("label", { for: "past-device" }, t("pastDevice")),
    device,
    h("label", { for: "past-seq" }, t("pastSeq")),
    seq,
    h("button", { type: "submit", id: "past-show" }, t("show")),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const at = Number(seq.value);
    if (Number.isInteger(at) && at > 0) void showPast(device.value.trim(), at);
  });
  return h("div", {}, h("h3", {}, t("pastTitle")), form);
}

async function showPast(device: string, seq: number): Promise<void> {
  const list = byId("past");
  const past = stateAt((await traceAll({ device }, seq)) ?? (await replayAll(seq)), device, seq);
  if (past.length === 0) {
    replace(list, h("li", { class: "empty", "data-seq": seq }, `${device} @ ${seq}: ${t("noCalls")}`));
    return;
  }
  replace(
    list,
    ...past.map((p) =>
      h(
        "li",
        { "data-call": p.call, "data-state": p.state },
        `${device} @ ${seq}: #${p.call} ${i18n.connectionState(p.state)}`,
        p.parties.length > 0 ? ` ${t("with")} ${p.parties.join(", ")}` : "",
      ),
    ),
  );
}

// ---------------------------------------------------------------- chat (IM-01..03)

function chatSection(): HTMLElement {
  const partner = h("input", { id: "chat-partner", type: "tel", autocomplete: "off" });
  const start = h(
    "form",
    { class: "row" },
    h("label", { for: "chat-partner" }, t("chatWith")),
    partner,
    h("button", { type: "submit", id: "chat-start" }, t("chatOpen")),
  );
  start.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const number = partner.value.trim();
    if (number !== "") void openDialogue(number);
  });
  const text = h("textarea", { id: "chat-text", rows: 2, maxlength: 2000 });
  const send = h(
    "form",
    { class: "chat-send" },
    h("label", { for: "chat-text" }, t("chatMessage")),
    text,
    h("button", { type: "submit", id: "chat-submit" }, t("chatSend")),
  );
  text.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      send.requestSubmit();
    }
  });
  send.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void sendChat(text.value);
  });
  return h(
    "section",
    { "aria-labelledby": "chat-title", id: "chat" },
    h("h2", { id: "chat-title" }, t("chat"), " ", h("span", { id: "chat-badge", class: "badge" })),
    start,
    h("ul", { id: "conversations", class: "conversations", "aria-label": t("chatConversations") }),
    h(
      "div",
      { id: "dialogue", hidden: true },
      h("h3", {}, h("span", { id: "dialogue-partner" }), " ", h("span", { id: "chat-online" })),
      h("ol", { id: "chat-messages", class: "messages", "aria-live": "polite" }),
      h("p", { id: "chat-error", role: "alert", class: "error" }),
      send,
    ),
  );
}

const partnerNames = new Map<string, string>(); // from the internal directory, asked once

function nameOf(number: string): string {
  const groups = (view.favourites?.["groups"] ?? []) as Doc[];
  for (const g of groups) {
    for (const e of (g["entries"] ?? []) as Doc[]) {
      if (e["user"] === number || e["number"] === number) return str(e["name"]);
    }
  }
  const known = partnerNames.get(number);
  if (known === undefined) {
    partnerNames.set(number, ""); // asked: once per partner
    void lookUpName(number);
  }
  return known ?? "";
}

async function lookUpName(number: string): Promise<void> {
  const result = (await session
    ?.request("searchDirectory", { user: me, text: number, limit: 5 })
    .catch(() => undefined)) as Doc | undefined;
  const hits = (result?.["hits"] ?? []) as Doc[];
  const hit = hits.find(
    (x) => x["directory"] === "internal" && ((x["numbers"] ?? []) as Doc[]).some((n) => n["number"] === number),
  );
  if (hit === undefined) return;
  partnerNames.set(number, str(hit["name"]));
  renderChat();
}

function conversationOf(partner: string): chat.Conversation {
  let c = chats.conversations.get(partner);
  if (c === undefined) {
    c = { partner, lastSeq: 0, readSeq: 0, unread: 0 };
    chats.conversations.set(partner, c);
  }
  return c;
}

async function refreshChat(): Promise<void> {
  const result = (await ask("getChatConversations", {})) as Doc | undefined;
  if (result === undefined) return;
  for (const c of (result["conversations"] ?? []) as Doc[]) {
    const partner = str(c["partner"]);
    chats.online.set(partner, c["partnerOnline"] === true);
    Object.assign(conversationOf(partner), {
      lastSeq: c["lastSeq"] as number,
      readSeq: c["readSeq"] as number,
      unread: c["unread"] as number,
    });
  }
  renderChat();
  if (chats.open !== null) await fetchMessages(chats.open);
}

/** Everything after the highest seq held, page by page (after a reconnect too). */
async function fetchMessages(partner: string): Promise<void> {
  for (;;) {
    const held = chats.messages.get(partner) ?? [];
    const since = chat.highest(held);
    const page = (await ask("getChatMessages", { partner, sinceSeq: since, limit: 100 })) as
      | Doc
      | undefined;
    if (page === undefined) return;
    const messages = (page["messages"] ?? []) as Doc[];
    chats.messages.set(partner, chat.merge(held, messages));
    chats.online.set(partner, page["partnerOnline"] === true);
    const c = conversationOf(partner);
    c.lastSeq = Math.max(c.lastSeq, page["lastSeq"] as number);
    c.readSeq = Math.max(c.readSeq, page["readSeq"] as number);
    renderChat();
    const last = chat.highest(chats.messages.get(partner) ?? []);
    if (messages.length < 100 || last >= c.lastSeq) break;
  }
  await markRead(partner);
}

async function openDialogue(partner: string): Promise<void> {
  chats.open = partner;
  chats.error = "";
  renderChat();
  await fetchMessages(partner);
  document.getElementById("chat-text")?.focus();
}

/** The read watermark (IM-01): up to the newest message, while the dialogue is shown. */
async function markRead(partner: string): Promise<void> {
  const c = chats.conversations.get(partner);
  if (c === undefined || chats.open !== partner || document.visibilityState !== "visible") return;
  const last = chat.highest(chats.messages.get(partner) ?? []);
  if (last <= c.readSeq) return;
  const result = (await ask("markChatRead", { partner, seq: last })) as Doc | undefined;
  if (result === undefined) return;
  c.readSeq = Math.max(c.readSeq, result["readSeq"] as number);
  c.unread = chat.unread(chats.messages.get(partner) ?? [], me, c.readSeq);
  renderChat();
}

async function sendChat(text: string): Promise<void> {
  const to = chats.open;
  if (to === null || session === null || text.trim() === "") return;
  // A retry of the same text to the same partner keeps its id: the node stores it once.
  const p = chats.pending;
  const clientId = p !== null && p.to === to && p.text === text ? p.clientId : chat.clientMessageId();
  chats.pending = { to, text, clientId };
  chats.error = "";
  try {
    await session.request("sendChatMessage", { to, text, clientId });
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    const stored = (chats.messages.get(to) ?? []).some(
      (m) => m["clientId"] === clientId && m["sender"] === me,
    );
    if ((e.code === "timeout" || e.code === "offline") && !stored) {
      chats.error = t("chatNotSent"); // the same id again on the next Send
    } else if (stored) {
      // The reply was lost but the message's live copy came: it is stored.
      chats.pending = null;
      const box = document.getElementById("chat-text") as HTMLTextAreaElement | null;
      if (box !== null && chats.open === to && box.value === text) box.value = "";
    } else {
      chats.pending = null;
      chats.error =
        e.code === "partnerOffline"
          ? t("chatPartnerOffline").replace("{partner}", to)
          : `${t("refused")}${e.code}${e.message ? ` (${e.message})` : ""}`;
      if (e.code === "partnerOffline") chats.online.set(to, false);
    }
    renderChat();
    return;
  }
  chats.pending = null;
  const box = document.getElementById("chat-text") as HTMLTextAreaElement | null;
  if (box !== null && chats.open === to) box.value = "";
  renderChat();
  await fetchMessages(to); // normally the live event has it already
}

function onChat(doc: Doc): void {
  const partner = str(doc["partner"]);
  if (partner === "") return;
  const c = conversationOf(partner);
  if (doc["event"] === "chatMessage") {
    const held = chats.messages.get(partner) ?? [];
    const seq = doc["seq"] as number;
    const fresh = !held.some((m) => m["seq"] === seq);
    chats.messages.set(partner, chat.merge(held, [doc]));
    c.lastSeq = Math.max(c.lastSeq, seq);
    if (fresh && doc["sender"] !== me && seq > c.readSeq) c.unread += 1;
    renderChat();
    void markRead(partner);
  } else if (doc["event"] === "chatRead") {
    c.readSeq = Math.max(c.readSeq, doc["readSeq"] as number);
    // Read on another of the user's clients: its count is the node's (refreshed below).
    if (c.readSeq >= c.lastSeq) c.unread = 0;
    else void refreshChat();
    renderChat();
  }
}

function renderChat(): void {
  const list = document.getElementById("conversations");
  if (list === null) return;
  const total = [...chats.conversations.values()].reduce((n, c) => n + c.unread, 0);
  const badge = byId("chat-badge");
  badge.textContent = total > 0 ? i18n.count(total) : "";
  badge.setAttribute("aria-label", total > 0 ? `${i18n.count(total)} ${t("chatUnread")}` : "");
  const conversations = [...chats.conversations.values()].sort((a, b) => b.lastSeq - a.lastSeq);
  replace(
    list,
    ...(conversations.length === 0
      ? [h("li", { class: "empty" }, t("chatNone"))]
      : conversations.map((c) => {
          const online = chats.online.get(c.partner) === true;
          const name = nameOf(c.partner);
          return h(
            "li",
            { "data-partner": c.partner, "data-unread": c.unread, "data-online": String(online) },
            h("span", { class: `lamp ${online ? "idle" : "offline"}`, "aria-hidden": "true" }),
            h(
              "button",
              {
                type: "button",
                "aria-pressed": String(chats.open === c.partner),
                onclick: () => void openDialogue(c.partner),
              },
              [name, c.partner].filter(Boolean).join(" · "),
            ),
            " ",
            h("span", { class: "presence" }, online ? t("chatOnline") : t("chatOffline")),
            c.unread > 0
              ? h(
                  "span",
                  { class: "badge unread", "aria-label": `${i18n.count(c.unread)} ${t("chatUnread")}` },
                  i18n.count(c.unread),
                )
              : null,
          );
        })),
  );
  const dialogue = byId("dialogue");
  const partner = chats.open;
  dialogue.hidden = partner === null;
  if (partner === null) return;
  const online = chats.online.get(partner) === true;
  byId("dialogue-partner").textContent = [nameOf(partner), partner].filter(Boolean).join(" · ");
  const state = byId("chat-online");
  state.textContent = online ? t("chatOnline") : t("chatOffline");
  state.dataset["online"] = String(online);
  byId("chat-error").textContent = chats.error;
  replace(
    byId("chat-messages"),
    ...(chats.messages.get(partner) ?? []).map((m) =>
      h(
        "li",
        {
          class: m["sender"] === me ? "mine" : "theirs",
          "data-seq": str(m["seq"]),
          "data-sender": str(m["sender"]),
        },
        h("span", { class: "meta" }, `${str(m["sender"])} · ${i18n.time(m["at"] as number)}`),
        h("span", { class: "text" }, str(m["text"])), // plain text, never HTML (specs/chat.md)
      ),
    ),
  );
}

// ---------------------------------------------------------------- voicemail (VM-01..05)

function voicemailSection(): HTMLElement {
  return h(
    "section",
    { "aria-labelledby": "vm-title", id: "voicemail", hidden: true },
    h("h2", { id: "vm-title" }, t("voicemail"), " ", h("span", { id: "vm-badge", class: "badge" })),
    h("ul", { id: "vm-list", class: "entries" }),
    voicemailSettings(),
  );
}

/** VM-03/06/07: recording on/off, voicemail to e-mail, the PIN. The checkboxes show what the
 * node says (the mailbox, the profile), changed only by its reply; a PIN lives in its input
 * until the request is sent and is then cleared (never kept, never stored). */
function voicemailSettings(): HTMLElement {
  const recording = h("input", { id: "vm-recording", type: "checkbox" });
  recording.addEventListener("change", () => {
    void ask("setVoicemailRecording", { user: me, recording: recording.checked }).then(() => loadMailbox());
  });
  const email = h("input", { id: "vm-email", type: "checkbox", "aria-describedby": "vm-email-hint" });
  email.addEventListener("change", () => {
    void ask("setProfile", { voicemailToEmail: email.checked }).then(() => loadMailbox());
  });
  const pin = (id: string, key: i18n.Key) => [
    h("label", { for: id }, t(key)),
    h("input", { id, type: "password", inputmode: "numeric", autocomplete: "off", required: true }),
  ];
  const form = h(
    "form",
    { class: "pin", "aria-labelledby": "vm-pin-title" },
    h("h4", { id: "vm-pin-title" }, t("vmPinTitle")),
    ...pin("vm-pin-old", "vmPinOld"),
    ...pin("vm-pin-new", "vmPinNew"),
    ...pin("vm-pin-repeat", "vmPinRepeat"),
    h("p", { id: "vm-pin-result", role: "alert", class: "error" }),
    h("button", { type: "submit", id: "vm-pin-submit" }, t("vmPinChange")),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const field = (id: string) => byId<HTMLInputElement>(id);
    const [old, next, repeat] = [field("vm-pin-old").value, field("vm-pin-new").value, field("vm-pin-repeat").value];
    for (const id of ["vm-pin-old", "vm-pin-new", "vm-pin-repeat"]) field(id).value = "";
    if (next !== repeat) {
      pinResult(t("vmPinNotSame"), "notSame");
      return;
    }
    void changePin(old, next);
  });
  return h(
    "div",
    { id: "vm-settings" },
    h("h3", {}, t("vmSettings")),
    h("div", { class: "check" }, recording, h("label", { for: "vm-recording" }, t("vmRecording"))),
    h("div", { class: "check" }, email, h("label", { for: "vm-email" }, t("vmEmail"))),
    h("p", { id: "vm-email-hint", class: "hint" }),
    form,
  );
}

function pinResult(text: string, code: string): void {
  const out = byId("vm-pin-result");
  out.textContent = text;
  out.dataset["code"] = code;
  out.className = code === "ok" ? "ok" : "error";
}

/** changeVoicemailPin over the `secure` request topic (VM-03: encrypted connections only; the
 * proxy's broker leg is the TLS listener when /config.json says secureRequests). Each refusal
 * in words: the PIN rules failed, a wrong current PIN, the lock, the default PIN. */
async function changePin(oldPin: string, newPin: string): Promise<void> {
  if (session === null) return;
  if (!config.secureRequests) {
    pinResult(t("vmPinNeedsTls"), "encryptionRequired");
    return;
  }
  try {
    await session.request("changeVoicemailPin", { user: me, oldPin, newPin }, true);
  } catch (e) {
    if (!(e instanceof Refused)) {
      pinResult(String(e), "error");
      return;
    }
    const details = e.details ?? {};
    const text: Record<string, () => string> = {
      pinPolicy: () =>
        t("vmPinPolicy") + ((details["failed"] ?? []) as string[]).map((r) => t(`pin_${r}` as i18n.Key)).join(", "),
      wrongPin: () => t("vmPinWrong").replace("{failures}", i18n.count(Number(details["failures"] ?? 1))),
      pinLocked: () => t("vmPinLocked").replace("{time}", i18n.time(Number(details["lockedUntil"] ?? 0))),
      defaultPinNotChanged: () => t("vmPinDefault"),
      encryptionRequired: () => t("vmPinNeedsTls"),
    };
    pinResult(text[e.code]?.() ?? `${t("refused")}${e.code}${e.message ? ` (${e.message})` : ""}`, e.code);
    return;
  }
  pinResult(t("vmPinChanged"), "ok");
}

/** The mailbox, again after each change; a user without one sees no voicemail section. */
async function loadMailbox(): Promise<void> {
  if (session === null) return;
  try {
    mailbox = (await session.request("getMailbox", { user: me })) as Doc;
    waitingNew = null; // the mailbox's own counts are newer
    profile = (await session.request("getProfile", { name: me })) as Doc;
  } catch (e) {
    if (e instanceof Refused && ["noMailbox", "notLicensed", "serviceNotSupported"].includes(e.code)) {
      mailbox = null;
    } else {
      showError(e);
    }
  }
  renderVoicemail();
}

/** Play in the browser: the stored bytes (listenVoicemailMessage, base64), as a blob. */
async function listen(message: number): Promise<void> {
  const result = (await ask("listenVoicemailMessage", { user: me, message })) as Doc | undefined;
  if (result === undefined) return;
  const bytes = Uint8Array.from(atob(str(result["audio"])), (c) => c.charCodeAt(0));
  // What plays is what was stored: the bytes against the hash the node names (where the
  // page has WebCrypto: a secure context, which loopback and https are).
  const sha = await sha256(bytes);
  if (sha !== null && sha !== str(result["sha256"])) {
    showError(t("vmDamaged"));
    return;
  }
  const old = audioUrls.get(message);
  if (old !== undefined) URL.revokeObjectURL(old);
  audioUrls.set(message, URL.createObjectURL(new Blob([bytes], { type: "audio/wav" })));
  if (sha !== null) audioSha.set(message, sha);
  renderVoicemail();
  const player = document.querySelector<HTMLAudioElement>(`#vm-list li[data-message="${message}"] audio`);
  void player?.play().catch(() => undefined); // autoplay may be refused: the controls remain
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string | null> {
  if (typeof crypto.subtle === "undefined") return null;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function renderVoicemail(): void {
  const section = document.getElementById("voicemail");
  if (section === null) return;
  section.hidden = mailbox === null;
  if (mailbox === null) return;
  const fresh = waitingNew ?? (mailbox["new"] as number);
  const badge = byId("vm-badge");
  badge.textContent = fresh > 0 ? i18n.count(fresh) : "";
  badge.setAttribute("aria-label", fresh > 0 ? `${i18n.count(fresh)} ${t("vmNew")}` : "");
  const recording = byId<HTMLInputElement>("vm-recording");
  recording.checked = mailbox["recording"] === true;
  byId("vm-settings").dataset["recording"] = String(recording.checked);
  const email = byId<HTMLInputElement>("vm-email");
  email.checked = profile?.["voicemailToEmail"] === true;
  byId("vm-settings").dataset["mail"] = String(email.checked);
  const address = str(profile?.["email"]);
  byId("vm-email-hint").textContent = address === "" ? t("vmEmailNone") : t("vmEmailTo").replace("{email}", address);
  const messages = (mailbox["messages"] ?? []) as Doc[];
  if (messages.length === 0) {
    replace(byId("vm-list"), h("li", { class: "empty" }, t("vmNone")));
    return;
  }
  replace(
    byId("vm-list"),
    ...messages.map((m) => {
      const message = m["message"] as number;
      const folder = str(m["folder"]);
      const who = [str(m["callerName"]), str(m["caller"])].filter(Boolean).join(" · ") || t("hidden");
      const url = audioUrls.get(message);
      const button = (label: string, service: string, extra: Doc = {}, then?: () => void) =>
        h(
          "button",
          {
            type: "button",
            "data-service": service,
            "aria-label": `${label}: ${who}`,
            onclick: () =>
              void ask(service, { user: me, message, ...extra }).then((r) => {
                if (r !== undefined) then?.();
              }),
          },
          label,
        );
      return h(
        "li",
        { class: `entry vm ${folder}`, "data-message": message, "data-folder": folder },
        h(
          "div",
          {},
          h("strong", {}, who),
          ` · ${i18n.time(m["receivedAt"] as number)} · ${Math.round((m["durationMs"] as number) / 1000)} s · `,
          h("span", { class: "folder" }, folder === "new" ? t("vmFolderNew") : t("vmFolderOld")),
        ),
        h(
          "div",
          { class: "buttons" },
          h(
            "button",
            {
              type: "button",
              "data-service": "listenVoicemailMessage",
              "aria-label": `${t("vmPlay")}: ${who}`,
              onclick: () => void listen(message),
            },
            t("vmPlay"),
          ),
          button(t("vmPlayOnPhone"), "playVoicemailMessage"),
          button(t("callBack"), "callBackVoicemailMessage"),
          button(folder === "new" ? t("vmMarkOld") : t("vmMarkNew"), "moveVoicemailMessage", {
            folder: folder === "new" ? "old" : "new",
          }),
          button(t("vmDelete"), "deleteVoicemailMessage"),
        ),
        url === undefined
          ? null
          : h("audio", {
              controls: true,
              src: url,
              "aria-label": `${t("vmPlay")}: ${who}`,
              "data-sha256": audioSha.get(message),
            }),
      );
    }),
  );
}

// ---------------------------------------------------------------- application conferences

function conferenceSection(): HTMLElement {
  const name = h("input", { id: "conf-name", autocomplete: "off", maxlength: 64 });
  const create = h(
    "form",
    { class: "row" },
    h("label", { for: "conf-name" }, t("confName")),
    name,
    h("button", { type: "submit", id: "conf-create" }, t("confCreate")),
  );
  create.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = name.value.trim();
    if (text === "") return;
    void ask("createConference", { user: me, name: text }).then((r) => {
      if (r !== undefined) name.value = "";
    });
  });
  return h(
    "section",
    { "aria-labelledby": "conf-title", id: "conferences" },
    h("h2", { id: "conf-title" }, t("conferences")),
    create,
    h("ul", { id: "conf-list", class: "conferences" }),
  );
}

function renderConferences(): void {
  const list = document.getElementById("conf-list");
  if (list === null) return;
  const all = (conferences?.["conferences"] ?? []) as Doc[];
  if (all.length === 0) {
    replace(list, h("li", { class: "empty" }, t("confNone")));
    return;
  }
  replace(
    list,
    ...all.map((conf) => {
      const id = conf["id"] as number;
      const moderating = conf["moderator"] === true;
      const base = { user: me, conference: id };
      const member = h("input", {
        type: "tel",
        autocomplete: "off",
        "aria-label": `${t("confAddNumber")} ${str(conf["name"])}`,
      });
      const add = h(
        "form",
        { class: "row" },
        member,
        h("button", { type: "submit" }, t("confAdd")),
      );
      add.addEventListener("submit", (ev) => {
        ev.preventDefault();
        const number = member.value.trim();
        if (number === "") return;
        // A colleague's number is their account (`member`); anything else is external.
        const internal = checkDial(number).kind === "internal";
        const fields: Doc = internal ? { ...base, member: number } : { ...base, name: number, number };
        void ask("addConferenceParticipant", fields).then((r) => {
          if (r !== undefined) member.value = "";
        });
      });
      const endsAt = conf["endsAt"];
      const invitation = invitations.get(id);
      return h(
        "li",
        { class: "conference", "data-conference": id },
        h(
          "div",
          { class: "call-head" },
          h("strong", {}, str(conf["name"])),
          moderating ? h("span", { class: "state" }, t("confModerator")) : null,
        ),
        typeof endsAt === "number"
          ? h("p", { class: "error", role: "status" }, `${t("confEndsAt")} ${i18n.time(endsAt)}`)
          : null,
        h(
          "ul",
          { class: "participants" },
          ...((conf["participants"] ?? []) as Doc[]).map((p) => {
            const pid = p["id"] as number;
            const state = str(p["state"]);
            const act = (service: string, label: string, extra: Doc = {}) =>
              h(
                "button",
                {
                  type: "button",
                  "data-service": service,
                  "aria-label": `${label}: ${str(p["name"]) || str(p["number"])}`,
                  onclick: () => void ask(service, { ...base, participant: pid, ...extra }),
                },
                label,
              );
            return h(
              "li",
              { "data-participant": pid, "data-state": state, "data-number": str(p["number"]) },
              h("span", { class: `lamp conf-${state}`, "aria-hidden": "true" }),
              h(
                "span",
                { class: "name" },
                p["guest"] === true ? t("confGuest") : str(p["name"]) || str(p["number"]),
              ),
              ` ${str(p["number"])} `,
              h("span", { class: "conf-state" }, i18n.confState(state)),
              p["moderator"] === true ? h("span", { class: "presence" }, ` · ${t("confModerator")}`) : null,
              moderating
                ? h(
                    "span",
                    { class: "buttons" },
                    state === "waiting" || state === "active"
                      ? act("disconnectConferenceParticipant", t("confDisconnect"))
                      : null,
                    p["user"] !== null && p["moderator"] !== true
                      ? act("setConferenceModerator", t("confMakeModerator"), { moderator: true })
                      : null,
                    act("removeConferenceParticipant", t("confRemove")),
                  )
                : null,
            );
          }),
        ),
        moderating ? add : null,
        h(
          "div",
          { class: "buttons" },
          moderating
            ? h(
                "button",
                {
                  type: "button",
                  "data-service": "callOutConferenceParticipants",
                  onclick: () => void ask("callOutConferenceParticipants", base),
                },
                t("confCallOut"),
              )
            : null,
          h(
            "button",
            {
              type: "button",
              "data-service": "conferenceInvitation",
              onclick: () => {
                // The text for all (moderators) or one's own with the personal PIN.
                const mine = ((conf["participants"] ?? []) as Doc[]).find((p) => p["user"] === me);
                const fields: Doc = { ...base, language: i18n.lang === "de" ? "de" : "en" };
                if (!moderating && mine !== undefined) fields["participant"] = mine["id"] as number;
                void ask("conferenceInvitation", fields).then((r) => {
                  if (r === undefined) return;
                  invitations.set(id, str((r as Doc)["text"]));
                  renderConferences();
                });
              },
            },
            t("confInvitation"),
          ),
          moderating
            ? h(
                "button",
                {
                  type: "button",
                  "data-service": "deleteConference",
                  onclick: () => void ask("deleteConference", base),
                },
                t("confDelete"),
              )
            : null,
        ),
        invitation === undefined ? null : h("pre", { class: "invitation" }, invitation),
      );
    }),
  );
}

// ---------------------------------------------------------------- events

function renderEvents(): void {
  const list = document.getElementById("events");
  if (list === null) return;
  list.dataset["count"] = String(seenSeqs.length); // for the browser tests
  replace(
    list,
    ...view.events.slice(-30).map((e) =>
      h(
        "li",
        { "data-seq": str(e["seq"]), "data-event": str(e["event"]) },
        `${str(e["seq"])} · ${str(e["event"])}${e["call"] !== undefined ? ` · ${t("call")} ${str(e["call"])}` : ""}`,
      ),
    ),
  );
}

// ---------------------------------------------------------------- start

async function boot(): Promise<void> {
  document.documentElement.lang = i18n.lang;
  const response = await fetch("config.json");
  config = (await response.json()) as Config;
  renderSignIn();
}

// For the browser tests: every event this page handled, by seq (specs/web.md#tests).
// ctiLevel: the MQTT protocol level the session speaks (5, or 4 on a 3.1.1-only broker);
// ctiFallbacks: how often the tab's CONNECTs were refused MQTT 5.
const hooks = window as unknown as {
  ctiSeenSeqs(): number[];
  ctiConnects(): number;
  ctiLevel(): number;
  ctiFallbacks(): number;
};
hooks.ctiSeenSeqs = () => [...seenSeqs];
hooks.ctiConnects = () => session?.connects ?? 0;
hooks.ctiLevel = () => session?.level ?? 0;
hooks.ctiFallbacks = () => fallbacks();

void boot();
