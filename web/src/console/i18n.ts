import { useEffect, useState } from "preact/hooks";
import { RU } from "./i18n-ru";

// Console UI strings. English is the default and the key: t("Sign out") looks the English text
// up in the Russian dictionary and falls back to it when a translation is missing. Data from the
// server (names, queue names, dispositions, reasons, error messages) is shown as it comes.
export type Lang = "en" | "ru";

export const LANGS: { lang: Lang; label: string; title: string }[] = [
  { lang: "en", label: "EN", title: "English" },
  { lang: "ru", label: "RU", title: "Русский" },
];

const STORAGE_KEY = "sb-lang";

function storedLang(): Lang {
  try {
    return localStorage.getItem(STORAGE_KEY) === "ru" ? "ru" : "en";
  } catch {
    return "en";
  }
}

let lang: Lang = storedLang();
document.documentElement.lang = lang;
const listeners = new Set<() => void>();

export function getLang(): Lang {
  return lang;
}

// BCP 47 tag for Intl formatters: the browser's own locale in English, Russian otherwise.
export function intlLocale(): string | undefined {
  return lang === "ru" ? "ru-RU" : undefined;
}

export function setLang(l: Lang): void {
  if (l === lang) return;
  lang = l;
  try {
    localStorage.setItem(STORAGE_KEY, l);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  document.documentElement.lang = l;
  listeners.forEach((f) => f());
}

// Re-renders the caller (the app root, so the whole tree) when the language changes.
export function useLang(): Lang {
  const [, setTick] = useState(0);
  useEffect(() => {
    const bump = () => setTick((n) => n + 1);
    listeners.add(bump);
    return () => {
      listeners.delete(bump);
    };
  }, []);
  return lang;
}

// Translates an English UI string; {name} placeholders are filled from vars.
export function t(en: string, vars?: Record<string, string | number>): string {
  const s = lang === "ru" ? (RU[en] ?? en) : en;
  return vars ? s.replace(/\{(\w+)\}/g, (m: string, k: string) => (k in vars ? String(vars[k]) : m)) : s;
}
