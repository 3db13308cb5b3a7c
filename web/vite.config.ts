import { readFileSync } from "node:fs";
import { defineConfig, type Plugin } from "vite";

// The demo shop page is served by the Rust binary from another origin, which replaces
// __SWITCHBOARD_ORIGIN__ at serve time; copy it verbatim so Vite never rewrites that tag.
function shopPage(): Plugin {
  return {
    name: "switchboard-shop-page",
    apply: "build",
    generateBundle() {
      this.emitFile({
        type: "asset",
        fileName: "shop/index.html",
        source: readFileSync(new URL("./shop/index.html", import.meta.url), "utf8"),
      });
    },
  };
}

export default defineConfig({
  base: "/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  plugins: [shopPage()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2020",
    chunkSizeWarningLimit: 300,
  },
});
