import { render } from "preact";
import "./styles.css";
import { App } from "./App";
import { boot } from "./session";

// ?fixture=1 (or =offer) renders sample data without a backend, for screenshots during
// development; the fixture code is a separate chunk that production sessions never load.
const fixture = new URLSearchParams(location.search).get("fixture");
if (fixture) {
  void import("./fixture").then((m) => m.startFixture(fixture));
} else {
  void boot();
}

render(<App />, document.getElementById("app")!);
