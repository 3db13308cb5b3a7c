import { defineConfig } from "vite";

// The embeddable widget: one self-contained IIFE with its styles inlined, built after the
// console into the same dist/ folder (so this build must not empty it).
export default defineConfig({
  publicDir: false,
  build: {
    outDir: "dist",
    emptyOutDir: false,
    target: "es2019",
    minify: "esbuild",
    lib: {
      entry: "src/widget/main.ts",
      name: "SwitchboardWidget",
      formats: ["iife"],
      fileName: () => "widget.js",
    },
  },
});
