import { useEffect, useState } from "preact/hooks";

// Hash routes (#/agent, #/admin/users): the server falls back to index.html for other paths,
// and a hash never reaches it.
export function currentRoute(): string {
  const h = location.hash.replace(/^#/, "");
  return h.startsWith("/") ? h : "/";
}

export function navigate(route: string): void {
  if (currentRoute() !== route) location.hash = "#" + route;
}

export function useRoute(): string {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const on = () => setRoute(currentRoute());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}
