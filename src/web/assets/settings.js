// Settings and preferences kept in localStorage across reloads.

const SETTINGS_KEY = "llm-twin.settings.v1";
const THEME_KEY = "llm-twin.theme";
const API_KEY = "llm-twin.api-key";

/** Each numeric setting: its bounds and whether it is an integer. Empty = the service's default. */
export const NUMERIC_SETTINGS = {
  k: { min: 1, max: 50, integer: true },
  expandQueries: { min: 1, max: 10, integer: true },
  temperature: { min: 0, max: 2, integer: false },
  maxNewTokens: { min: 1, max: 4096, integer: true },
};

function readJson(storage, key) {
  try {
    return JSON.parse(storage.getItem(key) ?? "null");
  } catch {
    return null;
  }
}

/** A numeric setting from text: a number within bounds, or undefined (use the default). */
export function parseSetting(name, text) {
  const rule = NUMERIC_SETTINGS[name];
  if (text === "" || text === null || text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < rule.min || value > rule.max) return undefined;
  if (rule.integer && !Number.isInteger(value)) return undefined;
  return value;
}

export function loadSettings(storage) {
  const saved = readJson(storage, SETTINGS_KEY) ?? {};
  const settings = { author: typeof saved.author === "string" ? saved.author : "" };
  for (const name of Object.keys(NUMERIC_SETTINGS)) {
    const value = parseSetting(name, saved[name]);
    if (value !== undefined) settings[name] = value;
  }
  return settings;
}

export function saveSettings(storage, settings) {
  try {
    storage.setItem(SETTINGS_KEY, JSON.stringify(settings));
  } catch {
    // Storage full or disabled: the settings still apply to this page.
  }
}

export function loadTheme(storage) {
  const theme = storage.getItem(THEME_KEY);
  return theme === "light" || theme === "dark" ? theme : "";
}

export function saveTheme(storage, theme) {
  storage.setItem(THEME_KEY, theme);
}

export function loadApiKey(storage) {
  return storage.getItem(API_KEY) ?? "";
}

export function saveApiKey(storage, key) {
  if (key) storage.setItem(API_KEY, key);
  else storage.removeItem(API_KEY);
}
