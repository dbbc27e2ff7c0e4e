// Microsoft's classic SignalR 2 JavaScript client (npm `signalr` 2.4.3 = jquery.signalR, jQuery 3 on jsdom) against
// the CX SDK's hubs, written the way Mitel's MiCC samples are: $.hubConnection('<server>/miccsdk', {qs: 'sessionid=
// Bearer ' + token}), start(), and only then the hub proxies, their handlers and the monitors. The npm packages are
// those of tests/delivery/signalr/js (run with NODE_PATH=<that>/node_modules). One JSON line per step.
//
//   node hubs_client.js <origin> <cx token> <transport> <support queue id> <web chat queue id> [expire]
// Scenario: employeeHub.addSelfMonitor(), queueHub.addStateMonitor([Support]) and a refused addStateMonitor([Web
// Chat]); the employee logs in and out over REST; the events pushed are printed. With "expire", the script then
// waits for the server to end the connection (the test expires the token).
"use strict";
const fs = require("fs");
const path = require("path");
const { JSDOM } = require("jsdom");
const EventSource = require("eventsource");

const [origin, token, transport, support, webChat, mode] = process.argv.slice(2);
const dom = new JSDOM("<!doctype html><html><body></body></html>", { url: origin + "/", runScripts: "outside-only" });
const window = dom.window;
// As in tests/delivery/signalr/js/client.js: give the polyfill's events a browser's eventPhase and reconnect delay.
class BrowserEventSource extends EventSource {
    constructor(url, init) { super(url, init); this.reconnectInterval = 3000; }
    addEventListener(type, listener, options) {
        const atTarget = (event) => listener.call(this, Object.assign(Object.create(event), { eventPhase: 2 }));
        return super.addEventListener(type, atTarget, options);
    }
}
window.EventSource = BrowserEventSource;
const $ = require("jquery")(window);
window.jQuery = window.$ = $;
const signalr = path.join(path.dirname(require.resolve("signalr/package.json")), "jquery.signalR.js");
window.eval(fs.readFileSync(signalr, "utf8"));

const out = (step, data) => process.stdout.write(JSON.stringify({ step, ...data }) + "\n");
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const promise = (deferred) => new Promise((resolve, reject) => deferred.done(resolve).fail(reject));
const api = (method, route, body) => fetch(origin + "/miccsdk/api/v1" + route, {
    method, headers: { authorization: "Bearer " + token, "content-type": "application/json" },
    body: body && JSON.stringify(body),
}).then((r) => r.status);

async function main() {
    const connection = $.hubConnection(origin + "/miccsdk", { qs: "sessionid=Bearer " + token });
    connection.logging = false;
    await promise(connection.start(transport === "auto" ? {} : { transport }));
    out("started", { transport: connection.transport.name, state: connection.state });

    // the three proxies, as Mitel's miccSignalR.js creates them (addSelfMonitor also monitors the caller's agents)
    const employeeHub = connection.createHubProxy("employeeHub");
    const agentHub = connection.createHubProxy("agentHub");
    const queueHub = connection.createHubProxy("queueHub");
    const events = [];
    agentHub.on("onAgentStateChanged", (a) => events.push(["onAgentStateChanged", a.id, a.currentState]));
    employeeHub.on("employeeStateChanged", (s) => events.push(["employeeStateChanged", s.id, s.presence.aggregate.state]));
    employeeHub.on("employeeConversationChanged", (list) => events.push(["employeeConversationChanged", list.length]));
    queueHub.on("queueStateChanged", (q) => events.push(["queueStateChanged", q.id, q.agentsLoggedIn]));

    await promise(employeeHub.invoke("addSelfMonitor"));
    await promise(queueHub.invoke("addStateMonitor", [support]));
    let refused = null;
    try { await promise(queueHub.invoke("addStateMonitor", [webChat])); } catch (error) {
        refused = { message: error.message, data: error.data };
    }
    out("monitoring", { refused });

    const login = await api("PUT", "/employees/me/state", { state: "Available", availableReason: "Login" });
    for (let i = 0; i < 50 && events.length < 3; i++) await wait(100);
    const logout = await api("PUT", "/employees/me/state", { state: "Offline" });
    for (let i = 0; i < 50 && events.length < 6; i++) await wait(100);
    await wait(300);
    out("received", { login, logout, events });

    if (mode === "expire") {
        const errors = [];
        connection.error((error) => errors.push(String(error && error.message || error)));
        const disconnected = new Promise((resolve) => connection.disconnected(resolve));
        out("waiting", {});
        const started = Date.now();
        await Promise.race([disconnected, wait(15000)]);
        out("ended", { state: connection.state, errors, seconds: (Date.now() - started) / 1000 });
        process.exit(0);
    }
    connection.stop();
    await wait(300);
    out("stopped", { state: connection.state });
    process.exit(0);
}

main().catch((error) => { out("error", { message: String(error && error.message || error) }); process.exit(1); });
