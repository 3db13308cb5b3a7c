import { noteServerDate } from "./clock";
import { t } from "./i18n";
import { getState } from "./store";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null,
  ) {
    super(message);
  }
}

type Method = "GET" | "POST" | "PUT" | "DELETE";

// Dev-only fixture mode (?fixture=1) installs this to answer requests without a backend.
export type MockHandler = (method: Method, path: string, body: unknown) => unknown;
let mock: MockHandler | null = null;
export function installMock(handler: MockHandler): void {
  mock = handler;
}

let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

export async function api<T>(method: Method, path: string, body?: unknown): Promise<T> {
  if (mock) {
    const out = mock(method, path, body);
    if (out instanceof ApiError) throw out;
    return out as T;
  }
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = getState().csrf;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", t("Network error: the server cannot be reached"), null);
  }
  noteServerDate(res.headers.get("Date"));
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; field?: string } } | null)
      ?.error;
    const e = new ApiError(
      res.status,
      err?.code ?? "http_" + res.status,
      err?.message ?? `${res.status} ${res.statusText || "request failed"}`,
      err?.field ?? null,
    );
    // A failed login is also a 401, but it is an answer for the form, not a lost session.
    if (res.status === 401 && path !== "/api/v1/auth/login") onUnauthorized();
    throw e;
  }
  return data as T;
}

export const get = <T>(path: string) => api<T>("GET", path);
export const post = <T>(path: string, body?: unknown) => api<T>("POST", path, body ?? {});
export const put = <T>(path: string, body: unknown) => api<T>("PUT", path, body);
