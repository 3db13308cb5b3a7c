import { ApiError, get, post, setUnauthorizedHandler } from "./api";
import { currentRoute, navigate } from "./router";
import { getState, setState, toast } from "./store";
import type { AgentState, Overview, Role, Session } from "./types";
import { startLive, stopLive } from "./ws";

const RANK: Record<Role, number> = { agent: 1, supervisor: 2, admin: 3 };

export function hasRole(role: Role): boolean {
  const u = getState().user;
  return !!u && RANK[u.role] >= RANK[role];
}

export function homeRoute(role: Role): string {
  return role === "agent" ? "/agent" : "/supervisor";
}

let returnTo: string | null = null;

function signedOut(): void {
  stopLive();
  const route = currentRoute();
  if (route !== "/login" && route !== "/") returnTo = route;
  setState({ user: null, csrf: "", agent: null, overview: null });
  navigate("/login");
}

setUnauthorizedHandler(() => {
  if (getState().user !== null) signedOut();
});

async function start(s: Session): Promise<void> {
  setState({ user: s.user, csrf: s.csrf_token });
  startLive(() => {
    // The socket keeps failing: find out whether the session is gone (a 401 signs out).
    get<Session>("/api/v1/auth/me").catch(() => {});
  });
  await Promise.all([refreshAgent(), refreshOverview()]);
}

export async function boot(): Promise<void> {
  try {
    await start(await get<Session>("/api/v1/auth/me"));
    if (currentRoute() === "/" || currentRoute() === "/login") {
      navigate(homeRoute(getState().user!.role));
    }
  } catch (e) {
    if (e instanceof ApiError && e.status !== 401) toast(e.message);
    signedOut();
  }
}

export async function login(loginName: string, password: string): Promise<void> {
  const s = await post<Session>("/api/v1/auth/login", { login: loginName, password });
  await start(s);
  const target = returnTo ?? homeRoute(s.user.role);
  returnTo = null;
  navigate(target);
}

export async function logout(): Promise<void> {
  try {
    await post("/api/v1/auth/logout");
  } catch {
    // Signing out locally is what matters; the cookie expires on its own.
  }
  returnTo = null;
  signedOut();
}

export async function refreshAgent(): Promise<void> {
  try {
    setState({ agent: await get<AgentState>("/api/v1/agent/state"), agentError: null });
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) {
      setState({ agentError: e instanceof Error ? e.message : String(e) });
    }
  }
}

export async function refreshOverview(): Promise<void> {
  if (!hasRole("supervisor")) return;
  try {
    setState({ overview: await get<Overview>("/api/v1/supervisor/overview"), overviewAt: Date.now() });
  } catch (e) {
    if (e instanceof ApiError && e.status !== 401) toast(e.message);
  }
}

// Runs a write and reports its error in a toast; returns whether it succeeded.
export async function act(f: () => Promise<unknown>, then?: () => Promise<void>): Promise<boolean> {
  try {
    await f();
  } catch (e) {
    toast(e instanceof Error ? e.message : String(e));
    return false;
  }
  if (then) await then();
  return true;
}
