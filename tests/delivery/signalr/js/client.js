// Drives Microsoft's classic SignalR 2 JavaScript client (npm `signalr` 2.4.3, jquery.signalR) in Node, with
// jQuery 3 on a jsdom window (jsdom's WebSocket, the `eventsource` package as window.EventSource), the way
// Mitel's MiCC samples use it: $.hubConnection(base, {qs: 'sessionid=Bearer ...'}), start(), and only then
// proxies and handlers. Prints one JSON line per step; exits 0 when the scenario completed.
//
//   node client.js <origin> <base> <token> <transport> [reconnect|revoke|-] [package]
// package: "signalr" (2.4.3, clientProtocol 2.1) or "signalr-2.2" (2.2.3, clientProtocol 1.5, which demands an
// exact ProtocolVersion).
"use strict";
const fs = require("fs");
const path = require("path");
const { JSDOM } = require("jsdom");
const EventSource = require("eventsource");

const [origin, base, token, transport, mode, library] = process.argv.slice(2);
const identity = { "tok-alice": "alice", "tok-bob": "bob" }[token];
const reconnect = mode === "reconnect";
const dom = new JSDOM("<!doctype html><html><body></body></html>", { url: origin + "/", runScripts: "outside-only" });
const window = dom.window;
// A browser dispatches an EventSource's events at the target (eventPhase 2, AT_TARGET), and jquery.signalR reads
// that as "the server ended the stream" and reconnects through /reconnect with its cursor; the Node polyfill
// leaves eventPhase unset, so its events are given the browser's. Browsers also wait about 3 s before their own
// automatic reconnection (the polyfill 1 s), which lets jquery.signalR's reconnect (after 2 s) go first.
class BrowserEventSource extends EventSource {
    constructor(url, init) {
        super(url, init);
        this.reconnectInterval = 3000;
    }

    addEventListener(type, listener, options) {
        const atTarget = (event) => listener.call(this, Object.assign(Object.create(event), { eventPhase: 2 }));
        return super.addEventListener(type, atTarget, options);
    }
}
window.EventSource = BrowserEventSource;
const $ = require("jquery")(window);
window.jQuery = window.$ = $;
window.eval(fs.readFileSync(path.join(__dirname, "node_modules", library || "signalr", "jquery.signalR.js"), "utf8"));

const out = (step, data) => process.stdout.write(JSON.stringify({ step, ...data }) + "\n");
const fail = (where) => (error) => { out("error", { where, message: String(error && error.message || error) }); process.exit(1); };
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const promise = (deferred) => new Promise((resolve, reject) => deferred.done(resolve).fail(reject));

async function main() {
    const connection = $.hubConnection(origin + base, { qs: "sessionid=Bearer " + token });
    connection.logging = false;
    await promise(connection.start({ transport }));
    out("started", { transport: connection.transport.name, id: connection.id, state: connection.state,
                     clientProtocol: connection.clientProtocol });

    // Mitel's pattern: the proxy and its handlers come after start() (connectionData was "[]")
    const hub = connection.createHubProxy("testHub");
    const announced = [];
    hub.on("announced", (text, sender) => announced.push([text, sender]));
    hub.on("pinged", (text) => announced.push(["pinged", text]));

    const sum = await promise(hub.invoke("add", 2, 3));
    const monitors = await promise(hub.invoke("monitor", "js-" + transport));
    let refused;
    try { await promise(hub.invoke("refuse")); } catch (error) { refused = { message: error.message, data: error.data }; }
    let crashed;
    try { await promise(hub.invoke("crash")); } catch (error) { crashed = error.message; }
    hub.state.count = 10;
    const counted = await promise(hub.invoke("count"));
    out("invoked", { sum, monitors, refused, crashed, counted, state: hub.state.count });

    // a server-side push to the group the hub method added this connection to
    const pushed = await fetch(origin + "/_test/push", {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ hub: "testHub", method: "announced", args: ["from the server", transport], group: "js-" + transport }),
    }).then((r) => r.json());
    await promise(hub.invoke("ping_me", "back"));
    for (let i = 0; i < 50 && announced.length < 2; i++) await wait(100);
    out("received", { pushed, announced });

    if (reconnect) {
        // the transport drops (a network failure): the client reconnects with its cursor and gets what it missed
        const reconnected = new Promise((resolve) => connection.reconnected(resolve));
        let reconnecting = false;
        connection.reconnecting(() => { reconnecting = true; });
        await fetch(origin + "/_test/drop?id=" + connection.id, { method: "POST" });
        await fetch(origin + "/_test/push", {
            method: "POST", headers: { "content-type": "application/json" },
            body: JSON.stringify({ hub: "testHub", method: "announced", args: ["while away", transport], group: "js-" + transport }),
        });
        await Promise.race([reconnected, wait(15000)]);
        for (let i = 0; i < 50 && announced.length < 3; i++) await wait(100);
        out("reconnected", { reconnecting, state: connection.state, announced });
    }

    if (mode === "revoke") {
        // the server revokes the principal's connections: an E in the last response stops the client
        const errors = [];
        connection.error((error) => errors.push(String(error && error.message || error)));
        const disconnected = new Promise((resolve) => connection.disconnected(resolve));
        const revoked = await fetch(origin + "/_test/revoke?identity=" + identity, { method: "POST" }).then((r) => r.json());
        const started = Date.now();
        await Promise.race([disconnected, wait(10000)]);
        out("revoked", { revoked, state: connection.state, errors, seconds: (Date.now() - started) / 1000 });
        process.exit(0);
    }

    connection.stop();
    await wait(300);
    out("stopped", { state: connection.state });
    process.exit(0);
}

main().catch(fail("main"));
