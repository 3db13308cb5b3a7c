// The widget's styles live inside its shadow root. `all: initial` on the host stops the page's
// inherited styles (fonts, colours, line height) from reaching in.
export const CSS = `
:host{all:initial;position:fixed;right:20px;bottom:20px;z-index:2147483000;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#18202c}
*{box-sizing:border-box;font:inherit;color:inherit}
[hidden]{display:none!important}
.fab{display:block;margin-left:auto;border:0;border-radius:999px;padding:12px 20px 12px 44px;background:#2563eb;color:#fff;font-weight:600;cursor:pointer;box-shadow:0 6px 20px rgba(37,99,235,.35);position:relative}
.fab:before{content:"";position:absolute;left:16px;top:50%;width:18px;height:18px;margin-top:-9px;background:no-repeat center/18px url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' fill='white'%3E%3Cpath d='M6.6 10.8a15.1 15.1 0 006.6 6.6l2.2-2.2c.3-.3.7-.4 1-.2 1.1.4 2.3.6 3.6.6.6 0 1 .4 1 1V20c0 .6-.4 1-1 1A17 17 0 013 4c0-.6.4-1 1-1h3.5c.6 0 1 .4 1 1 0 1.3.2 2.5.6 3.6.1.3 0 .7-.2 1z'/%3E%3C/svg%3E")}
.fab:hover{background:#1d4fd0}
.panel{position:absolute;right:0;bottom:58px;width:320px;max-width:calc(100vw - 40px);max-height:calc(100vh - 100px);overflow:auto;background:#fff;border-radius:12px;box-shadow:0 16px 48px rgba(15,23,42,.25);border:1px solid #e2e6ec}
.head{display:flex;align-items:center;justify-content:space-between;padding:14px 16px;background:#2563eb;color:#fff;border-radius:12px 12px 0 0}
.head b{font-weight:700;font-size:15px}
.x{border:0;background:none;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:0 2px}
form,.status{padding:14px 16px 16px}
.row{margin-bottom:10px}
label{display:block;font-size:12px;font-weight:600;color:#3b4556;margin-bottom:3px}
input[type=text],input[type=tel],input[type=datetime-local]{display:block;width:100%;height:36px;padding:0 10px;border:1px solid #cfd5de;border-radius:8px;background:#fff}
input:focus{outline:2px solid rgba(37,99,235,.45);outline-offset:1px}
input[aria-invalid]{border-color:#dc2626}
.consent{display:flex;gap:8px;align-items:flex-start;font-weight:400;font-size:12px;color:#4a5568;margin:4px 0 2px}
.consent input{margin:2px 0 0;width:15px;height:15px;flex:none}
.ferr{color:#dc2626;font-size:12px;margin-top:2px}
.ferr:empty{display:none}
.err{background:#fdecec;color:#991b1b;border-radius:8px;padding:8px 10px;font-size:13px;margin:8px 0}
.note{background:#fdf3e3;color:#7a4504;border-radius:8px;padding:8px 10px;font-size:13px;margin:0 0 12px}
.go{display:block;width:100%;height:40px;margin-top:10px;border:0;border-radius:8px;background:#16a34a;color:#fff;font-weight:600;cursor:pointer}
.go:disabled{opacity:.6;cursor:default}
.status p{margin:4px 0 8px;font-size:15px;padding-left:30px;position:relative}
.status p:before{content:"";position:absolute;left:0;top:1px;width:20px;height:20px;border-radius:50%;background:#2563eb}
.s-calling p:before{animation:p 1s infinite alternate}
.s-done p:before{background:#16a34a}
.s-failed p:before{background:#dc2626}
.s-scheduled p:before{background:#d97706}
@keyframes p{to{opacity:.3}}
`;
