import { useEffect } from "preact/hooks";
import type { ComponentChildren } from "preact";
import { useNow } from "./clock";
import { LANGS, setLang, t, useLang } from "./i18n";
import { installGoKeys, SHORTCUTS, useShortcuts } from "./keys";
import { navigate, useRoute } from "./router";
import { hasRole, homeRoute, logout } from "./session";
import { dismissToast, getState, setState, useAppState } from "./store";
import type { Role } from "./types";
import { LoginView } from "./views/Login";
import { AgentView } from "./views/Agent";
import { SupervisorView } from "./views/Supervisor";
import { StatsView } from "./views/Stats";
import { CampaignsView } from "./views/Campaigns";
import { AdminView, ADMIN_PAGES } from "./admin/Admin";
import { displayStatus, StatusPill } from "./views/status";

interface NavItem {
  route: string;
  label: string;
  role: Role;
  testid: string;
}

const NAV: { title: string; items: NavItem[] }[] = [
  {
    title: "Work",
    items: [
      { route: "/agent", label: "Agent workspace", role: "agent", testid: "nav-agent" },
      { route: "/supervisor", label: "Wallboard", role: "supervisor", testid: "nav-supervisor" },
      { route: "/stats", label: "Statistics", role: "supervisor", testid: "nav-stats" },
      { route: "/campaigns", label: "Campaigns", role: "supervisor", testid: "nav-campaigns" },
    ],
  },
  {
    title: "Administration",
    items: ADMIN_PAGES.map((p) => ({
      route: "/admin/" + p.slug,
      label: p.title,
      role: "admin" as Role,
      testid: "nav-admin-" + p.slug,
    })),
  },
];

installGoKeys(
  { a: "/agent", s: "/supervisor", t: "/stats" },
  navigate,
  () => getState().help || !getState().user,
);

export function App() {
  const st = useAppState();
  const route = useRoute();
  // Every view reads its strings through t() while rendering: re-rendering from the root on a
  // language change is all a switch needs.
  useLang();

  if (st.user === undefined) {
    return <div class="boot">{t("Loading…")}</div>;
  }
  if (st.user === null || route === "/login") {
    return (
      <>
        <div class="login-lang">
          <LangToggle />
        </div>
        <LoginView />
        <Toasts />
      </>
    );
  }
  return <Shell route={route} />;
}

function Shell({ route }: { route: string }) {
  const st = useAppState();
  const user = st.user!;
  useShortcuts({ "?": () => setState({ help: !st.help }) });

  useEffect(() => {
    if (route === "/") navigate(homeRoute(user.role));
  }, [route, user.role]);

  let body: ComponentChildren;
  if (route === "/agent") body = <AgentView />;
  else if (route === "/supervisor") body = guard("supervisor", <SupervisorView />);
  else if (route === "/stats") body = guard("supervisor", <StatsView />);
  else if (route === "/campaigns") body = guard("supervisor", <CampaignsView />);
  else if (route.startsWith("/admin/")) body = guard("admin", <AdminView slug={route.slice(7)} />);
  else
    body = (
      <div class="empty">
        {t("Page not found.")} <a href={"#" + homeRoute(user.role)}>{t("Go home")}</a>
      </div>
    );

  return (
    <div class="shell">
      <nav class="sidebar">
        <div class="brand">
          <span class="brand-mark">◎</span> Switchboard
        </div>
        {NAV.map((section) => {
          const items = section.items.filter((i) => hasRole(i.role));
          if (items.length === 0) return null;
          return (
            <div class="nav-section" key={section.title}>
              <div class="nav-title">{t(section.title)}</div>
              {items.map((i) => (
                <a
                  key={i.route}
                  href={"#" + i.route}
                  class={"nav-link" + (route === i.route ? " active" : "")}
                  data-testid={i.testid}
                >
                  {t(i.label)}
                </a>
              ))}
            </div>
          );
        })}
        <div class="sidebar-foot">
          <button class="link-btn" onClick={() => setState({ help: true })} data-testid="help-open">
            {t("Keyboard shortcuts")} <kbd>?</kbd>
          </button>
        </div>
      </nav>
      <div class="main">
        <header class="topbar">
          <div class="topbar-title">{titleFor(route)}</div>
          <div class="topbar-right">
            <MyStatus />
            <LinkIndicator />
            <span class="user" data-testid="user-name">
              {user.name} <span class="muted">· {t(user.role)}</span>
            </span>
            <LangToggle />
            <button class="btn btn-ghost btn-sm" onClick={() => void logout()} data-testid="logout">
              {t("Sign out")}
            </button>
          </div>
        </header>
        <main class="content">{body}</main>
      </div>
      {st.help && <HelpOverlay />}
      <Toasts />
    </div>
  );
}

function guard(role: Role, view: ComponentChildren): ComponentChildren {
  return hasRole(role) ? view : <div class="empty">{t("You do not have access to this page.")}</div>;
}

function titleFor(route: string): string {
  for (const s of NAV) for (const i of s.items) if (i.route === route) return t(i.label);
  return "";
}

function MyStatus() {
  const { agent } = useAppState();
  if (!agent) return null;
  return <StatusPill status={displayStatus(agent)} raw={agent.status} reason={agent.reason} testid="my-status" />;
}

function LinkIndicator() {
  const { link, retryAt } = useAppState();
  const now = useNow();
  const label =
    link === "open"
      ? t("Live")
      : link === "connecting"
        ? t("Connecting…")
        : link === "retrying"
          ? retryAt
            ? t("Reconnecting in {n} s", { n: Math.max(0, Math.ceil((retryAt - now) / 1000)) })
            : t("Reconnecting…")
          : t("Offline");
  return (
    <span class={"link link-" + link} data-testid="connection" data-state={link} title={t("Live updates")}>
      <span class="dot" />
      {label}
    </span>
  );
}

function HelpOverlay() {
  useEffect(() => {
    // While help is open it owns the keyboard: nothing reaches the view's shortcuts.
    const on = (ev: KeyboardEvent) => {
      if (ev.key === "Escape" || ev.key === "?") setState({ help: false });
      ev.stopImmediatePropagation();
      ev.preventDefault();
    };
    window.addEventListener("keydown", on, true);
    return () => window.removeEventListener("keydown", on, true);
  }, []);
  return (
    <div class="overlay" onClick={() => setState({ help: false })} data-testid="help-overlay">
      <div class="dialog" onClick={(e) => e.stopPropagation()} role="dialog" aria-label={t("Keyboard shortcuts")}>
        <h2>{t("Keyboard shortcuts")}</h2>
        <table class="keys">
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.keys}>
                <td>
                  <kbd>{t(s.keys)}</kbd>
                </td>
                <td>{t(s.what)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p class="muted">{t("Shortcuts are ignored while you type in a field. Esc closes this help.")}</p>
        <button class="btn" onClick={() => setState({ help: false })} data-testid="help-close">
          {t("Close")}
        </button>
      </div>
    </div>
  );
}

// EN / RU switch; the choice is kept in localStorage (English by default).
function LangToggle() {
  const lang = useLang();
  return (
    <div class="lang-toggle" role="group" aria-label={t("Language")} data-testid="lang-toggle">
      {LANGS.map((l) => (
        <button
          key={l.lang}
          type="button"
          class={lang === l.lang ? "on" : ""}
          aria-pressed={lang === l.lang}
          title={l.title}
          lang={l.lang}
          onClick={() => setLang(l.lang)}
          data-testid={"lang-" + l.lang}
        >
          {l.label}
        </button>
      ))}
    </div>
  );
}

function Toasts() {
  const { toasts } = useAppState();
  return (
    <div class="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} class={"toast toast-" + t.kind} data-testid="toast" onClick={() => dismissToast(t.id)}>
          {t.text}
        </div>
      ))}
    </div>
  );
}
