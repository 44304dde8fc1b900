// German, English and Dutch (the guides' users are German and Dutch; the Dutch terms are the
// Dutch guide's: Logboek, Directe berichten, Aanwezigheidsstatus...); the browser's language
// unless the user chose one (kept in localStorage). Dates and numbers through Intl, in the
// chosen locale.
export type Lang = "en" | "de" | "nl";

// The participant states of application conferences (CONF-04).
const confStates: Record<Lang, Record<string, string>> = {
  en: { inactive: "not in the call", diallingIn: "being called", waiting: "waiting (alone)", active: "in the conference" },
  de: { inactive: "nicht im Gespräch", diallingIn: "wird angerufen", waiting: "wartet (allein)", active: "in der Konferenz" },
  nl: { inactive: "niet in gesprek", diallingIn: "wordt gebeld", waiting: "wacht (alleen)", active: "in de conferentie" },
};

const en = {
  title: "CTI web client",
  signIn: "Sign in",
  signOut: "Sign out",
  number: "Internal number",
  password: "Password",
  wrongPassword: "Number or password is wrong.",
  language: "Language",
  changeTitle: "Choose a new password",
  changeWhy: "Your password was set by an administrator: choose your own before you go on.",
  oldPassword: "Current password",
  newPassword: "New password",
  repeatPassword: "Repeat the new password",
  notSame: "The two new passwords differ.",
  change: "Change password",
  changeNeedsTls: "Changing the password needs an encrypted connection: ask your administrator.",
  policy_length: "8 to 16 characters",
  policy_upper: "an upper-case letter",
  policy_lower: "a lower-case letter",
  policy_digit: "a digit",
  policy_special: "a special character",
  policy_printable: "printable characters only",
  policyFailed: "The password needs: ",
  online: "Connected",
  connecting: "Connecting…",
  offline: "Connection lost: reconnecting…",
  phone: "My phone",
  noCalls: "No calls",
  dial: "Number to dial",
  call: "Call",
  dialInternal: "Internal number",
  dialExternal: "External number",
  dialInvalid: "Not a number: ",
  dialEmpty: "Enter a number",
  with: "with",
  hidden: "caller hidden until answered",
  conference: "Conference",
  favourites: "Favourites",
  noFavourites: "No favourites yet: search the directory and add colleagues.",
  addFavourite: "Add to favourites",
  pickup: "Pick up",
  presence: "My presence",
  status: "Status",
  returnAt: "Back at",
  info: "Info",
  save: "Save",
  forwardingFor: "Forwarding while absent",
  target: "Target",
  fwdStatus: "While my status is",
  fwdNumber: "Target number",
  directory: "Directory",
  search: "Search name or number",
  noHits: "Nothing found",
  journal: "Journal",
  note: "Note",
  remindAt: "Remind me at",
  done: "Done",
  events: "Recent events",
  nodeOffline: "The server is offline.",
  refused: "Refused: ",
  callBack: "Call back",
  toVoicemail: "To voicemail",
  pastTitle: "A device at a past seq",
  pastDevice: "Device",
  pastSeq: "At seq",
  show: "Show",
  trace: "Call as a ladder",
  traceCall: "Call ID",
  draw: "Draw",
  traceHint: "Your own calls; a monitor account sees every call.",
  traceHintOperator: "Any call in the log (administrator or monitor account).",
  chat: "Chat",
  chatWith: "Chat with (number)",
  chatOpen: "Open",
  chatConversations: "Conversations",
  chatNone: "No conversations yet",
  chatMessage: "Message",
  chatSend: "Send",
  chatOnline: "online",
  chatOffline: "offline",
  chatUnread: "unread",
  chatNotSent: "Not sent (connection lost): press Send again, it will not arrive twice.",
  chatPartnerOffline: "{partner} is not signed in: the message was not sent.",
  confName: "New conference",
  confCreate: "Create",
  conferences: "Conferences",
  confNone: "No conferences",
  confAddNumber: "Add participant (number) to",
  confAdd: "Add",
  confModerator: "moderator",
  confEndsAt: "The moderator left: the conference ends at",
  confGuest: "Guest",
  confDisconnect: "Disconnect",
  confMakeModerator: "Make moderator",
  confRemove: "Remove",
  confCallOut: "Call participants",
  confInvitation: "Invitation",
  confDelete: "Delete conference",
} as const;

export type Key = keyof typeof en;

const de: Record<Key, string> = {
  title: "CTI-Webclient",
  signIn: "Anmelden",
  signOut: "Abmelden",
  number: "Rufnummer",
  password: "Passwort",
  wrongPassword: "Rufnummer oder Passwort ist falsch.",
  language: "Sprache",
  changeTitle: "Neues Passwort wählen",
  changeWhy:
    "Ihr Passwort wurde vom Administrator gesetzt: Wählen Sie ein eigenes, bevor es weitergeht.",
  oldPassword: "Bisheriges Passwort",
  newPassword: "Neues Passwort",
  repeatPassword: "Neues Passwort wiederholen",
  notSame: "Die beiden neuen Passwörter sind verschieden.",
  change: "Passwort ändern",
  changeNeedsTls:
    "Das Passwort kann nur über eine verschlüsselte Verbindung geändert werden: Fragen Sie Ihren Administrator.",
  policy_length: "8 bis 16 Zeichen",
  policy_upper: "einen Großbuchstaben",
  policy_lower: "einen Kleinbuchstaben",
  policy_digit: "eine Ziffer",
  policy_special: "ein Sonderzeichen",
  policy_printable: "nur druckbare Zeichen",
  policyFailed: "Das Passwort braucht: ",
  online: "Verbunden",
  connecting: "Verbinde…",
  offline: "Verbindung verloren: verbinde neu…",
  phone: "Mein Telefon",
  noCalls: "Keine Gespräche",
  dial: "Zu wählende Nummer",
  call: "Anrufen",
  dialInternal: "Interne Rufnummer",
  dialExternal: "Externe Rufnummer",
  dialInvalid: "Keine Rufnummer: ",
  dialEmpty: "Rufnummer eingeben",
  with: "mit",
  hidden: "Anrufer bis zur Annahme verborgen",
  conference: "Konferenz",
  favourites: "Favoriten",
  noFavourites: "Noch keine Favoriten: Suchen Sie im Verzeichnis und fügen Sie Kollegen hinzu.",
  addFavourite: "Zu Favoriten",
  pickup: "Heranholen",
  presence: "Meine Anwesenheit",
  status: "Status",
  returnAt: "Zurück um",
  info: "Info",
  save: "Speichern",
  forwardingFor: "Umleitung bei Abwesenheit",
  target: "Ziel",
  fwdStatus: "Solange mein Status ist",
  fwdNumber: "Zielrufnummer",
  directory: "Verzeichnis",
  search: "Name oder Nummer suchen",
  noHits: "Nichts gefunden",
  journal: "Journal",
  note: "Notiz",
  remindAt: "Erinnern um",
  done: "Erledigt",
  events: "Letzte Ereignisse",
  nodeOffline: "Der Server ist nicht erreichbar.",
  refused: "Abgelehnt: ",
  callBack: "Zurückrufen",
  toVoicemail: "Zur Sprachbox",
  pastTitle: "Ein Gerät bei einer früheren seq",
  pastDevice: "Gerät",
  pastSeq: "Bei seq",
  show: "Zeigen",
  trace: "Gespräch als Leiterdiagramm",
  traceCall: "Gesprächs-ID",
  draw: "Zeichnen",
  traceHint: "Ihre eigenen Gespräche; ein Monitor-Konto sieht alle.",
  traceHintOperator: "Jedes Gespräch im Protokoll (Administrator- oder Monitor-Konto).",
  chat: "Chat",
  chatWith: "Chat mit (Rufnummer)",
  chatOpen: "Öffnen",
  chatConversations: "Unterhaltungen",
  chatNone: "Noch keine Unterhaltungen",
  chatMessage: "Nachricht",
  chatSend: "Senden",
  chatOnline: "online",
  chatOffline: "offline",
  chatUnread: "ungelesen",
  chatNotSent:
    "Nicht gesendet (Verbindung verloren): Noch einmal Senden, sie kommt nicht doppelt an.",
  chatPartnerOffline: "{partner} ist nicht angemeldet: Die Nachricht wurde nicht gesendet.",
  confName: "Neue Konferenz",
  confCreate: "Anlegen",
  conferences: "Konferenzen",
  confNone: "Keine Konferenzen",
  confAddNumber: "Teilnehmer (Rufnummer) hinzufügen zu",
  confAdd: "Hinzufügen",
  confModerator: "Moderator",
  confEndsAt: "Der Moderator hat die Konferenz verlassen: Sie endet um",
  confGuest: "Gast",
  confDisconnect: "Trennen",
  confMakeModerator: "Zum Moderator machen",
  confRemove: "Entfernen",
  confCallOut: "Teilnehmer anrufen",
  confInvitation: "Einladung",
  confDelete: "Konferenz löschen",
};

const nl: Record<Key, string> = {
  title: "CTI-webclient",
  signIn: "Aanmelden",
  signOut: "Afmelden",
  number: "Telefoonnummer",
  password: "Wachtwoord",
  wrongPassword: "Telefoonnummer of wachtwoord is onjuist.",
  language: "Taal",
  changeTitle: "Nieuw wachtwoord kiezen",
  changeWhy:
    "Uw wachtwoord is door de beheerder ingesteld: kies eerst uw eigen wachtwoord.",
  oldPassword: "Oude wachtwoord",
  newPassword: "Nieuwe wachtwoord",
  repeatPassword: "Herhaling nieuwe wachtwoord",
  notSame: "De twee nieuwe wachtwoorden verschillen.",
  change: "Wachtwoord wijzigen",
  changeNeedsTls:
    "Het wachtwoord kan alleen via een versleutelde verbinding worden gewijzigd: vraag uw beheerder.",
  policy_length: "8 tot 16 tekens",
  policy_upper: "een hoofdletter",
  policy_lower: "een kleine letter",
  policy_digit: "een cijfer",
  policy_special: "een speciaal teken",
  policy_printable: "alleen afdrukbare tekens",
  policyFailed: "Het wachtwoord heeft nodig: ",
  online: "Verbonden",
  connecting: "Verbinden…",
  offline: "Verbinding verbroken: opnieuw verbinden…",
  phone: "Mijn telefoon",
  noCalls: "Geen gesprekken",
  dial: "Te kiezen nummer",
  call: "Bellen",
  dialInternal: "Intern telefoonnummer",
  dialExternal: "Extern telefoonnummer",
  dialInvalid: "Geen telefoonnummer: ",
  dialEmpty: "Voer een nummer in",
  with: "met",
  hidden: "beller verborgen tot het gesprek is aangenomen",
  conference: "Conferentie",
  favourites: "Favorieten",
  noFavourites: "Nog geen favorieten: zoek in de telefoonboeken en voeg collega's toe.",
  addFavourite: "Aan Favorieten toevoegen",
  pickup: "Overnemen",
  presence: "Mijn aanwezigheid",
  status: "Aanwezigheidsstatus",
  returnAt: "Terug om",
  info: "Info",
  save: "Opslaan",
  forwardingFor: "Statusgerelateerde oproepomleiding",
  target: "Bestemming",
  fwdStatus: "Zolang mijn status is",
  fwdNumber: "Bestemmingsnummer",
  directory: "Telefoonboeken",
  search: "Naam of nummer zoeken",
  noHits: "Niets gevonden",
  journal: "Logboek",
  note: "Notitie",
  remindAt: "Herinnering om",
  done: "Gereed",
  events: "Laatste gebeurtenissen",
  nodeOffline: "De server is niet bereikbaar.",
  refused: "Geweigerd: ",
  callBack: "Terugbellen",
  toVoicemail: "Naar voicemail",
  pastTitle: "Een toestel bij een eerdere seq",
  pastDevice: "Toestel",
  pastSeq: "Bij seq",
  show: "Tonen",
  trace: "Gesprek als ladderdiagram",
  traceCall: "Gesprek-ID",
  draw: "Tekenen",
  traceHint: "Uw eigen gesprekken; een monitoraccount ziet alle gesprekken.",
  traceHintOperator: "Elk gesprek in het logboek (beheerders- of monitoraccount).",
  chat: "Directe berichten",
  chatWith: "Chatten met (nummer)",
  chatOpen: "Openen",
  chatConversations: "Gesprekken",
  chatNone: "Nog geen directe berichten",
  chatMessage: "Bericht",
  chatSend: "Verzenden",
  chatOnline: "online",
  chatOffline: "offline",
  chatUnread: "ongelezen",
  chatNotSent:
    "Niet verzonden (verbinding verbroken): klik nogmaals op Verzenden, het komt niet dubbel aan.",
  chatPartnerOffline: "{partner} is niet aangemeld: het bericht is niet verzonden.",
  confName: "Nieuwe conferentie",
  confCreate: "Aanmaken",
  conferences: "Conferenties",
  confNone: "Geen conferenties",
  confAddNumber: "Deelnemer (nummer) toevoegen aan",
  confAdd: "Toevoegen",
  confModerator: "moderator",
  confEndsAt: "De moderator is vertrokken: de conferentie eindigt om",
  confGuest: "Gast",
  confDisconnect: "Verbreken",
  confMakeModerator: "Moderator maken",
  confRemove: "Verwijderen",
  confCallOut: "Deelnemers bellen",
  confInvitation: "Uitnodiging",
  confDelete: "Conferentie verwijderen",
};

const services: Record<Lang, Record<string, string>> = {
  en: {
    answerCall: "Answer",
    clearConnection: "Hang up",
    clearCall: "End call for all",
    holdCall: "Hold",
    retrieveCall: "Retrieve",
    consultationCall: "Consult",
    alternateCall: "Toggle",
    reconnectCall: "Back to held call",
    transferCall: "Transfer",
    conferenceCall: "Conference",
    singleStepTransferCall: "Blind transfer",
    deflectCall: "Deflect",
    directedPickupCall: "Pick up",
    groupPickupCall: "Group pickup",
  },
  de: {
    answerCall: "Annehmen",
    clearConnection: "Auflegen",
    clearCall: "Gespräch für alle beenden",
    holdCall: "Halten",
    retrieveCall: "Zurückholen",
    consultationCall: "Rückfrage",
    alternateCall: "Makeln",
    reconnectCall: "Zurück zum Gehaltenen",
    transferCall: "Übergeben",
    conferenceCall: "Konferenz",
    singleStepTransferCall: "Weiterleiten",
    deflectCall: "Umlenken",
    directedPickupCall: "Heranholen",
    groupPickupCall: "Gruppe heranholen",
  },
  nl: {
    answerCall: "Aannemen",
    clearConnection: "Ophangen",
    clearCall: "Gesprek voor iedereen beëindigen",
    holdCall: "In de wacht",
    retrieveCall: "Terugnemen",
    consultationCall: "Ruggespraak",
    alternateCall: "Wisselen",
    reconnectCall: "Terug naar wachtend gesprek",
    transferCall: "Doorverbinden",
    conferenceCall: "Conferentie",
    singleStepTransferCall: "Direct doorverbinden",
    deflectCall: "Omleiden",
    directedPickupCall: "Overnemen",
    groupPickupCall: "Groep overnemen",
  },
};

const summaries: Record<Lang, Record<string, string>> = {
  en: {
    idle: "available",
    "incoming-internal": "ringing (internal)",
    "incoming-external": "ringing (external)",
    outgoing: "calling",
    "talking-internal": "on an internal call",
    "talking-external": "on an external call",
    held: "call on hold",
    dnd: "do not disturb",
    offline: "offline",
  },
  de: {
    idle: "frei",
    "incoming-internal": "klingelt (intern)",
    "incoming-external": "klingelt (extern)",
    outgoing: "ruft an",
    "talking-internal": "im internen Gespräch",
    "talking-external": "im externen Gespräch",
    held: "Gespräch gehalten",
    dnd: "nicht stören",
    offline: "nicht erreichbar",
  },
  nl: {
    idle: "vrij",
    "incoming-internal": "gaat over (intern)",
    "incoming-external": "gaat over (extern)",
    outgoing: "belt",
    "talking-internal": "in intern gesprek",
    "talking-external": "in extern gesprek",
    held: "gesprek in de wacht",
    dnd: "niet storen",
    offline: "niet bereikbaar",
  },
};

const connectionStates: Record<Lang, Record<string, string>> = {
  en: {
    alerting: "ringing",
    connected: "connected",
    hold: "on hold",
    initiated: "dialling",
    queued: "queued",
    failed: "failed",
    null: "ended",
  },
  de: {
    alerting: "klingelt",
    connected: "verbunden",
    hold: "gehalten",
    initiated: "wählt",
    queued: "wartet",
    failed: "fehlgeschlagen",
    null: "beendet",
  },
  nl: {
    alerting: "gaat over",
    connected: "verbonden",
    hold: "in de wacht",
    initiated: "kiest",
    queued: "wacht",
    failed: "mislukt",
    null: "beëindigd",
  },
};

const statuses: Record<Lang, Record<string, string>> = {
  en: {
    office: "In the office",
    meeting: "In a meeting",
    sick: "Sick",
    break: "On a break",
    outOfOffice: "Out of the office",
    vacation: "On vacation",
    lunch: "At lunch",
    goneHome: "Gone home",
    doNotDisturb: "Do not disturb",
  },
  de: {
    office: "Im Büro",
    meeting: "In einer Besprechung",
    sick: "Krank",
    break: "Pause",
    outOfOffice: "Außer Haus",
    vacation: "Urlaub",
    lunch: "Mittagspause",
    goneHome: "Feierabend",
    doNotDisturb: "Nicht stören",
  },
  nl: {
    office: "Kantoor",
    meeting: "Bespreking",
    sick: "Ziek",
    break: "Pauze",
    outOfOffice: "Niet op kantoor",
    vacation: "Vakantie",
    lunch: "Lunch",
    goneHome: "Thuis",
    doNotDisturb: "Niet storen",
  },
};

const folders: Record<Lang, Record<string, string>> = {
  en: { open: "Open", missed: "Missed", answered: "Answered", all: "All", overdue: "Overdue" },
  de: {
    open: "Offen",
    missed: "Verpasst",
    answered: "Angenommen",
    all: "Alle",
    overdue: "Überfällig",
  },
  nl: {
    open: "Openen",
    missed: "Gemist",
    answered: "Beantwoord",
    all: "Alle oproepen",
    overdue: "Herinneringen - te laat",
  },
};

const targets: Record<Lang, Record<string, string>> = {
  en: { voicemail: "Voicemail", mobile: "My mobile", external: "My external number", number: "Another number" },
  de: { voicemail: "Sprachbox", mobile: "Mein Handy", external: "Meine externe Nummer", number: "Andere Nummer" },
  nl: { voicemail: "Voicemail", mobile: "Mobiel", external: "Extern", number: "Ander telefoonnummer" },
};

const outcomes: Record<Lang, Record<string, string>> = {
  en: {
    answered: "answered",
    notAnswered: "not answered",
    busy: "busy",
    notReached: "not reached",
    missed: "missed",
    voicemail: "voicemail",
    pickedUp: "picked up",
    answeredElsewhere: "answered elsewhere",
    forwarded: "forwarded",
  },
  de: {
    answered: "angenommen",
    notAnswered: "nicht angenommen",
    busy: "besetzt",
    notReached: "nicht erreicht",
    missed: "verpasst",
    voicemail: "Sprachbox",
    pickedUp: "herangeholt",
    answeredElsewhere: "anderswo angenommen",
    forwarded: "umgeleitet",
  },
  nl: {
    answered: "beantwoord",
    notAnswered: "niet beantwoord",
    busy: "bezet",
    notReached: "niet bereikt",
    missed: "gemist",
    voicemail: "voicemail",
    pickedUp: "overgenomen",
    answeredElsewhere: "elders beantwoord",
    forwarded: "omgeleid",
  },
};

export const LANGS = ["de", "en", "nl"] as const;

const isLang = (v: string | null | undefined): v is Lang => (LANGS as readonly string[]).includes(v ?? "");

export function chooseLang(stored: string | null, browser: readonly string[]): Lang {
  if (isLang(stored)) return stored;
  for (const tag of browser) {
    const primary = tag.toLowerCase().split("-")[0];
    if (isLang(primary)) return primary;
  }
  return "en";
}

// (Guarded so the pure functions here can be unit-tested outside a browser.)
export let lang: Lang =
  typeof localStorage === "undefined"
    ? "en"
    : chooseLang(localStorage.getItem("cti.lang"), navigator.languages);

export function setLang(value: Lang): void {
  lang = value;
  localStorage.setItem("cti.lang", value);
  document.documentElement.lang = value;
}

const dictionaries: Record<Lang, Record<Key, string>> = { en, de, nl };

export function t(key: Key): string {
  return dictionaries[lang][key];
}

export const service = (name: string): string => services[lang][name] ?? name;
export const summary = (name: string): string => summaries[lang][name] ?? name;
export const connectionState = (name: string): string => connectionStates[lang][name] ?? name;
export const status = (name: string): string => statuses[lang][name] ?? name;
export const target = (name: string): string => targets[lang][name] ?? name;
export const outcome = (name: string): string => outcomes[lang][name] ?? name;
export const folder = (name: string): string => folders[lang][name] ?? name;
export const confState = (name: string): string => confStates[lang][name] ?? name;
export const STATUSES = Object.keys(statuses.en);

/** The browser's own tag for the chosen language (en-GB writes 07/12/2026, en-US 12/7/26). */
function locale(): string {
  return navigator.languages.find((tag) => tag.toLowerCase().split("-")[0] === lang) ?? lang;
}

export function time(ms: number): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: "short", timeStyle: "short" }).format(ms);
}

export function count(n: number): string {
  return new Intl.NumberFormat(locale()).format(n);
}
