// Light and dark: the system's preference unless the header button pinned one (remembered).
import { loadTheme, saveTheme } from "./settings.js";

export function setupThemeToggle(storage, toggle) {
  const systemDark = window.matchMedia("(prefers-color-scheme: dark)");
  const effectiveTheme = () => loadTheme(storage) || (systemDark.matches ? "dark" : "light");
  /** A chosen theme is pinned on <html>; without a choice the CSS follows the system's preference. */
  const applyTheme = (theme) => {
    if (loadTheme(storage)) document.documentElement.dataset.theme = theme;
    else delete document.documentElement.dataset.theme;
    const dark = theme === "dark";
    toggle.setAttribute("aria-pressed", String(dark));
    toggle.textContent = dark ? "Light theme" : "Dark theme";
  };
  toggle.addEventListener("click", () => {
    const next = effectiveTheme() === "dark" ? "light" : "dark";
    saveTheme(storage, next);
    applyTheme(next);
  });
  systemDark.addEventListener("change", () => applyTheme(effectiveTheme()));
  applyTheme(effectiveTheme());
}
