import type { JSX } from "preact";
import { t } from "../i18n";
import { DepartmentsPage, QueuesPage, UsersPage, WidgetsPage } from "./pages";
import { ScriptsPage } from "./Scripts";
import { TokensPage } from "./Tokens";

export const ADMIN_PAGES: { slug: string; title: string; Page: () => JSX.Element }[] = [
  { slug: "users", title: "Users", Page: UsersPage },
  { slug: "departments", title: "Departments", Page: DepartmentsPage },
  { slug: "queues", title: "Queues", Page: QueuesPage },
  { slug: "scripts", title: "Scripts", Page: ScriptsPage },
  { slug: "widgets", title: "Widgets", Page: WidgetsPage },
  { slug: "tokens", title: "API tokens", Page: TokensPage },
];

export function AdminView({ slug }: { slug: string }) {
  const page = ADMIN_PAGES.find((p) => p.slug === slug);
  if (!page) return <div class="empty">{t("Unknown admin page.")}</div>;
  // Keyed by slug so that switching pages starts with a fresh list and no open form.
  return <page.Page key={slug} />;
}
