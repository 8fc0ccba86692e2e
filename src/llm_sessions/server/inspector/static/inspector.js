// The llm-sessions inspector: fills a session's page from the JSON API and follows it live
// (after pages.js, which every page loads).
// Every piece of session data is put into the page as text (textContent), never as HTML.
"use strict";

(() => {
  const CSRF_HEADERS = { "X-Requested-With": "llm-sessions-inspector" };
  const PAGE_SIZE = 100;
  const SVG = "http://www.w3.org/2000/svg";

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svgBar(fromPercent, widthPercent, className) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 100 10");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("class", "bar");
    const rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("x", String(fromPercent));
    rect.setAttribute("y", "0");
    rect.setAttribute("height", "10");
    rect.setAttribute("width", String(Math.max(widthPercent, 0.5)));
    rect.setAttribute("class", className);
    svg.append(rect);
    return svg;
  }

  async function getJson(url) {
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);
    return response.json();
  }

  function usd(value) {
    return `$${Number(value).toFixed(6)}`;
  }

  function costText(priced, unpricedModels) {
    return usd(priced) + (unpricedModels && unpricedModels.length ? " + unpriced" : "");
  }

  function duration(seconds) {
    if (seconds >= 1) return `${seconds.toFixed(2)} s`;
    const ms = seconds * 1000;
    return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
  }

  function cssName(kind) {
    return String(kind).replace(/[^a-z0-9_-]/gi, "-");
  }

  // ---- the event tree --------------------------------------------------------------------

  /** Thumbnails of an event's images and links to its files (attachments by reference). */
  function attachmentsOf(event, session) {
    const content = event.message && Array.isArray(event.message.content)
      ? event.message.content : [];
    const parts = content.filter((part) => part && part.type === "attachment");
    if (!parts.length) return null;
    const box = el("div", "attachments");
    for (const part of parts) {
      const name = part.name || part.url || part.media_type;
      if (!part.ref) {
        box.append(el("span", "attachment-url", name)); // by URL: not fetched here
        continue;
      }
      const digest = part.ref.slice("sha256:".length);
      const url = `/inspector/api/sessions/${encodeURIComponent(session)}/blobs/${digest}`;
      if (part.media_type.startsWith("image/")) {
        const image = el("img", "thumb");
        image.src = url;
        image.loading = "lazy";
        image.alt = `${name} (${part.width}x${part.height})`;
        box.append(image);
      } else {
        const link = el("a", "attachment-file", `${name} (${part.size} bytes)`);
        link.href = url;
        box.append(link);
      }
    }
    return box;
  }

  class EventTree {
    constructor(list, sessionId) {
      this.list = list;
      this.sessionId = sessionId;
      this.items = new Map(); // event id -> its <li>
      this.orphans = new Set(); // roots whose parent event is not shown (yet)
    }

    render(node, session = this.sessionId) {
      const event = node.event;
      const item = el("li", `node kind-${cssName(node.kind)}`);
      item.dataset.id = node.id;
      item.id = `event-${node.id}`;
      if (event.parent_event_id) item.dataset.parent = event.parent_event_id;
      if (node.status) item.classList.add(`status-${node.status}`);
      const row = el("div", "row");
      row.tabIndex = 0;
      row.setAttribute("role", "button");
      row.setAttribute("aria-expanded", "false");
      row.append(el("span", "kind", node.kind));
      row.append(el("span", "eid", node.id.slice(0, 8)));
      row.append(el("span", "label", node.label));
      if (node.status) row.append(el("span", `status status-${node.status}`, node.status));
      const metadata = event.metadata || {};
      if (metadata.incomplete === true) {
        // A reply still streaming, or one whose stream was cut (it names what cut it).
        item.classList.add("incomplete");
        const state = metadata.cut_by ? "cut off" : "streaming…";
        row.append(el("span", "status status-incomplete", state));
      }
      if (node.duration !== null) row.append(el("span", "duration", duration(node.duration)));
      if (node.attempts > 1) row.append(el("span", "attempts", `${node.attempts} attempts`));
      row.append(el("span", "tokens", `${node.tokens} tok`));
      item.append(row);
      if (node.error) item.append(el("div", "error", node.error));
      if (node.failures && node.failures.length) item.append(this.failures(node.failures));
      const attachments = attachmentsOf(event, session);
      if (attachments) item.append(attachments);
      let json = null;
      const toggle = () => {
        if (json === null) {
          json = el("pre", "json", JSON.stringify(event, null, 2));
          children.before(json);
        } else {
          json.hidden = !json.hidden;
        }
        row.setAttribute("aria-expanded", String(!json.hidden));
      };
      row.addEventListener("click", toggle);
      row.addEventListener("keydown", (key) => {
        if (key.key === "Enter" || key.key === " ") {
          key.preventDefault();
          toggle();
        }
      });
      const children = el("ol", "children");
      item.append(children);
      this.items.set(node.id, item);
      for (const child of node.children) children.append(this.render(child, session));
      return item;
    }

    failures(failures) {
      const list = el("ol", "failures");
      for (const failure of failures) {
        const item = el("li", "failure");
        item.append(el("span", "failure-head",
          `attempt ${failure.attempt}: ${failure.exception_type}: ${failure.message}`));
        if (failure.traceback) {
          const details = el("details", "traceback");
          details.append(el("summary", null, "traceback"), el("pre", null, failure.traceback));
          item.append(details);
        }
        list.append(item);
      }
      return list;
    }

    childrenOf(eventId) {
      const parent = eventId ? this.items.get(eventId) : undefined;
      return parent ? parent.querySelector(":scope > ol.children") : null;
    }

    /** Newer events: under their parent when it is shown, else at the end. */
    append(nodes) {
      for (const node of nodes) {
        const item = this.render(node);
        const under = this.childrenOf(item.dataset.parent);
        if (under) {
          under.append(item);
        } else {
          this.list.append(item);
          if (item.dataset.parent) this.orphans.add(item);
        }
      }
    }

    /** A new version of a shown event (a reply growing as it streams): its row is drawn
     * again; the events under it stay. */
    replace(node) {
      const old = this.items.get(node.id);
      if (!old) return;
      const item = this.render(node);
      const kept = old.querySelector(":scope > ol.children");
      item.querySelector(":scope > ol.children").append(...kept.childNodes);
      old.replaceWith(item);
      if (this.orphans.delete(old)) this.orphans.add(item);
    }

    /** Older events (and segment boundaries) go first; then roots find their parents. */
    prepend(nodes, boundary, session = this.sessionId) {
      const fragment = document.createDocumentFragment();
      if (boundary) fragment.append(boundary);
      for (const node of nodes) {
        const item = this.render(node, session);
        fragment.append(item);
        if (item.dataset.parent) this.orphans.add(item);
      }
      this.list.prepend(fragment);
      for (const orphan of [...this.orphans]) {
        const under = this.childrenOf(orphan.dataset.parent);
        if (under && !orphan.contains(under)) {
          under.append(orphan);
          this.orphans.delete(orphan);
        }
      }
    }
  }

  // ---- one session's page ----------------------------------------------------------------

  class SessionPage {
    constructor(main) {
      this.id = main.dataset.sessionId;
      this.main = main;
      this.path = `/v1/sessions/${encodeURIComponent(this.id)}`;
      this.box = document.getElementById("events");
      this.olderButton = document.getElementById("older");
      this.tree = new EventTree(document.getElementById("tree"), this.id);
      this.segments = null; // ids, oldest first
      this.paging = { session: this.id, before: null, more: true, busy: false };
      this.newest = null; // the newest event shown of this session
      this.catchingUp = null;
      this.catchUpAgain = false;
    }

    async start() {
      await this.loadNewest();
      // When the newest events are on the page and respond (read by the benchmark).
      this.main.dataset.readyMs = String(Math.round(performance.now()));
      this.main.dataset.ready = "true";
      await this.showTarget();
      this.follow();
      this.olderButton.addEventListener("click", () => this.loadOlder());
      // The page scrolls, not the events: scrolling up to their top loads older ones.
      let lastY = window.scrollY;
      window.addEventListener("scroll", () => {
        const up = window.scrollY < lastY;
        lastY = window.scrollY;
        if (up && this.tree.list.getBoundingClientRect().top > -120) this.loadOlder();
      }, { passive: true });
      document.getElementById("fork").addEventListener("click", () => this.fork());
      document.getElementById("prompt-form").addEventListener("submit", (event) => {
        event.preventDefault();
        this.buildPrompt(event.target);
      });
      this.loadOverview();
    }

    eventsUrl(session, query) {
      return `/inspector/api/sessions/${encodeURIComponent(session)}/events?${query}`;
    }

    async loadNewest() {
      try {
        const page = await getJson(this.eventsUrl(this.id, `limit=${PAGE_SIZE}`));
        if (!page.nodes.length) {
          const empty = el("p", "empty", "No events yet.");
          empty.id = "no-events";
          this.box.append(empty);
        }
        this.tree.append(page.nodes);
        this.paging.before = page.first_id;
        this.paging.more = page.has_more;
        this.newest = page.last_id;
        this.olderButton.hidden = !page.has_more;
        this.tree.list.lastElementChild?.scrollIntoView({ block: "end" });
      } catch (error) {
        this.box.append(el("p", "problem", `Could not load the events: ${error.message}`));
      }
    }

    async loadOlder(limit = PAGE_SIZE) {
      const paging = this.paging;
      if (paging.busy || (!paging.more && !this.previousSegment())) return;
      paging.busy = true;
      try {
        let boundary = null;
        if (!paging.more) {
          boundary = this.boundary(paging.session);
          paging.session = this.previousSegment();
          paging.before = null;
        }
        const query = `limit=${limit}` +
          (paging.before ? `&before=${encodeURIComponent(paging.before)}` : "");
        const page = await getJson(this.eventsUrl(paging.session, query));
        // Keep the events in view where they are as older ones go in above them.
        const anchor = this.tree.list.firstElementChild;
        const top = anchor ? anchor.getBoundingClientRect().top : 0;
        this.tree.prepend(page.nodes, boundary, paging.session);
        if (anchor) window.scrollBy(0, anchor.getBoundingClientRect().top - top);
        if (page.first_id) paging.before = page.first_id;
        paging.more = page.has_more;
        if (!paging.more && !this.previousSegment() && this.segments && this.segments.length > 1) {
          this.tree.prepend([], this.boundary(paging.session));
        }
        this.olderButton.hidden = !paging.more && !this.previousSegment();
      } catch (error) {
        this.olderButton.textContent = `Load older events (failed: ${error.message})`;
      } finally {
        paging.busy = false;
      }
    }

    /** The event the address names (``#event-<id>``, a search hit's link): older pages are
     * loaded until it is on the page; then it is marked and scrolled into view. */
    async showTarget() {
      const hash = window.location.hash;
      if (!hash.startsWith("#event-")) return;
      let wanted;
      try {
        wanted = decodeURIComponent(hash.slice("#event-".length));
      } catch (error) {
        return;
      }
      while (!this.tree.items.has(wanted) && this.paging.more) {
        const before = this.paging.before;
        await this.loadOlder(1000);
        if (this.paging.before === before) break; // the page did not load
      }
      const item = this.tree.items.get(wanted);
      if (!item) {
        this.box.prepend(el("p", "problem", `Event ${wanted} is not in this session.`));
        return;
      }
      for (const shown of document.querySelectorAll("li.node.highlighted")) {
        shown.classList.remove("highlighted");
      }
      item.classList.add("highlighted");
      item.querySelector(":scope > .row").setAttribute("aria-current", "true");
      item.scrollIntoView({ block: "center" });
    }

    previousSegment() {
      if (!this.segments) return null;
      const index = this.segments.indexOf(this.paging.session);
      return index > 0 ? this.segments[index - 1] : null;
    }

    boundary(sessionId) {
      const index = this.segments.indexOf(sessionId);
      const item = el("li", "segment-boundary");
      item.append(el("span", null, `segment ${index + 1} of ${this.segments.length} begins: `));
      const link = el("a", null, sessionId);
      link.href = `/sessions/${encodeURIComponent(sessionId)}`;
      item.append(link);
      return item;
    }

    /** Runs, tokens and cost, and the segments: one read of the session on the server. */
    async loadOverview() {
      let overview;
      try {
        overview = await getJson(
          `/inspector/api/sessions/${encodeURIComponent(this.id)}/overview`);
      } catch (error) {
        const problem = `Could not load: ${error.message}`;
        for (const box of ["runs", "usage"]) {
          document.getElementById(box).replaceChildren(el("p", "problem", problem));
        }
        return;
      }
      if (this.segments === null) this.showSegments(overview.segments);
      if (overview.forked_from) this.showOrigin(overview.forked_from);
      const runs = overview.runs;
      document.getElementById("runs").replaceChildren(
        runs.length ? this.runsTable(runs) : el("p", "empty", "No runs."));
      this.showUsage(overview.cost);
      if (!this.main.dataset.overviewMs) {
        this.main.dataset.overviewMs = String(Math.round(performance.now()));
      }
    }

    showSegments(segments) {
      this.segments = segments;
      const index = segments.indexOf(this.id);
      if (segments.length > 1 && index >= 0) {
        document.getElementById("position").textContent =
          `Segment ${index + 1} of ${segments.length} of an infinite conversation` +
          (index > 0 ? "; scroll up for the earlier segments." : ".");
        if (index + 1 < segments.length) {
          const next = document.getElementById("next-segment");
          const following = segments[index + 1];
          next.append(el("span", null, `The conversation continues in segment ${index + 2}: `));
          const link = el("a", null, following);
          link.href = `/sessions/${encodeURIComponent(following)}`;
          next.append(link);
          next.hidden = false;
        }
      }
      if (!this.paging.more && this.previousSegment()) this.olderButton.hidden = false;
    }

    /** A fork names the session it was copied from, and the last event it copied. */
    showOrigin(origin) {
      const notice = document.getElementById("forked-from");
      const link = el("a", null, origin.session_id);
      link.href = `/sessions/${encodeURIComponent(origin.session_id)}`;
      notice.replaceChildren("This session is a fork of ", link,
        origin.event_id ? `, copied up to event ${origin.event_id.slice(0, 8)}.` : ".");
      notice.hidden = false;
    }

    follow() {
      const live = document.getElementById("live");
      const query = this.newest ? `?after=${encodeURIComponent(this.newest)}` : "";
      const source = new EventSource(`${this.path}/events/stream${query}`);
      source.addEventListener("open", () => {
        live.textContent = "live";
        live.className = "live on";
      });
      source.addEventListener("error", () => {
        live.textContent = "reconnecting…";
        live.className = "live off";
      });
      source.addEventListener("session.event", () => this.catchUp());
      source.addEventListener(
        "session.event.updated", (message) => this.refresh(message.lastEventId));
      source.addEventListener("session.reset", () => {
        // Events the page shows were removed (an undo, a clear): read the session afresh.
        source.close();
        window.location.reload();
      });
      source.addEventListener("session.deleted", () => {
        live.textContent = "this session was deleted";
        source.close();
      });
    }

    /** Draw again an event the page shows, as the store holds it now. */
    async refresh(eventId) {
      if (!this.tree.items.has(eventId)) return;
      try {
        const session = encodeURIComponent(this.id);
        const found = await getJson(
          `/inspector/api/sessions/${session}/events/${encodeURIComponent(eventId)}`);
        this.tree.replace(found.node);
      } catch (error) {
        document.getElementById("live").textContent = `live update failed: ${error.message}`;
      }
    }

    async catchUp() {
      if (this.catchingUp) {
        this.catchUpAgain = true;
        return;
      }
      this.catchingUp = (async () => {
        do {
          this.catchUpAgain = false;
          const last = this.tree.list.lastElementChild;
          const atBottom = !last || last.getBoundingClientRect().bottom < window.innerHeight + 60;
          let more = true;
          while (more) {
            const query = this.newest
              ? `after=${encodeURIComponent(this.newest)}&limit=1000` : `limit=${PAGE_SIZE}`;
            const page = await getJson(this.eventsUrl(this.id, query));
            if (page.nodes.length) document.getElementById("no-events")?.remove();
            this.tree.append(page.nodes);
            this.newest = page.last_id || this.newest;
            more = page.has_more && Boolean(page.last_id);
          }
          if (atBottom) this.tree.list.lastElementChild?.scrollIntoView({ block: "nearest" });
        } while (this.catchUpAgain);
      })();
      try {
        await this.catchingUp;
        this.loadOverview();
      } catch (error) {
        document.getElementById("live").textContent = `live update failed: ${error.message}`;
      } finally {
        this.catchingUp = null;
      }
    }

    runsTable(runs) {
      const now = Date.now();
      const spans = runs.map((run) => [
        Date.parse(run.started_at),
        run.ended_at ? Date.parse(run.ended_at) : now,
      ]);
      const first = Math.min(...spans.map((span) => span[0]));
      const last = Math.max(...spans.map((span) => span[1]));
      const width = Math.max(last - first, 1);
      const table = el("table", "runs");
      const names = ["run", "status", "start (UTC)", "end (UTC)", "duration", "timeline"];
      const head = el("tr", "head");
      for (const name of names) head.append(el("th", null, name));
      table.append(head);
      runs.forEach((run, index) => {
        const [start, end] = spans[index];
        const row = el("tr", `run status-${cssName(run.status)}`);
        row.append(
          el("td", "id", run.id),
          el("td", "status", run.status),
          el("td", null, run.started_at.replace("T", " ").slice(0, 19)),
          el("td", null, run.ended_at ? run.ended_at.replace("T", " ").slice(0, 19) : "—"),
          el("td", "num", (run.ended_at ? "" : "running ") + duration((end - start) / 1000)),
        );
        const cell = el("td", "timeline");
        cell.append(svgBar(((start - first) / width) * 100, ((end - start) / width) * 100,
          `run-bar status-${cssName(run.status)}`));
        row.append(cell);
        // Labels for a narrow window, where each run is a card instead of a row.
        [...row.children].slice(1).forEach((td, at) => { td.dataset.label = names[at + 1]; });
        table.append(row);
      });
      return table;
    }

    showUsage(cost) {
      const total = cost.total;
      const byModel = Object.entries(cost.by_model).map(([name, usage]) => ({
        name: name || "(no model)",
        tokens: usage.total_tokens,
        cost: usage.estimated_cost_usd === null ? "unpriced" : usd(usage.estimated_cost_usd),
      }));
      const bySource = Object.entries(cost.by_source).map(([name, summary]) => ({
        name,
        tokens: summary.total_tokens,
        cost: costText(summary.total_estimated_cost_usd, summary.unpriced_models),
      }));
      const summary = el("p", "total",
        `${total.total_tokens.toLocaleString()} tokens, ` +
        costText(total.total_estimated_cost_usd, total.unpriced_models));
      if (total.unpriced_models.length) {
        summary.append(el("span", "unpriced", ` (unpriced: ${total.unpriced_models.join(", ")})`));
      }
      document.getElementById("usage").replaceChildren(summary,
        this.chart("By model", byModel), this.chart("By source", bySource));
    }

    chart(title, rows) {
      const figure = el("figure", "chart");
      figure.append(el("figcaption", null, title));
      if (!rows.length) {
        figure.append(el("p", "empty", "No token usage."));
        return figure;
      }
      const most = Math.max(1, ...rows.map((row) => row.tokens));
      const table = el("table", "usage");
      for (const row of rows) {
        const line = el("tr");
        const bar = el("td", "timeline");
        bar.append(svgBar(0, (row.tokens / most) * 100, "token-bar"));
        line.append(el("th", null, row.name), bar, el("td", "num", `${row.tokens.toLocaleString()} tok`),
          el("td", "num cost", row.cost));
        table.append(line);
      }
      figure.append(table);
      return figure;
    }

    async buildPrompt(form) {
      const box = document.getElementById("prompt");
      const data = new FormData(form);
      const query = new URLSearchParams();
      if (data.get("strategy") !== "next") query.set("strategy", data.get("strategy"));
      if (data.get("max_tokens")) query.set("max_tokens", data.get("max_tokens"));
      query.set("model", data.get("model") || "gpt-4o-mini");
      box.replaceChildren(el("p", null, "building…"));
      try {
        const messages = await getJson(`${this.path}/prompt?${query}`);
        const list = el("ol", "prompt");
        for (const message of messages) {
          const item = el("li", `message role-${cssName(message.role)}`);
          item.append(el("span", "role", message.role));
          if (message.content !== null && message.content !== undefined) {
            const content = typeof message.content === "string"
              ? message.content : JSON.stringify(message.content, null, 2);
            item.append(el("pre", "content", content));
          }
          if (message.tool_calls) {
            item.append(el("pre", "tool-calls", JSON.stringify(message.tool_calls, null, 2)));
          }
          list.append(item);
        }
        box.replaceChildren(el("p", null, `${messages.length} messages`), list);
      } catch (error) {
        box.replaceChildren(el("p", "problem", `Could not build the prompt: ${error.message}`));
      }
    }

    async fork() {
      const button = document.getElementById("fork");
      const question = "Fork this session? A new session gets a copy of its events " +
        "and opens here; this one stays as it is.";
      if (!window.confirm(question)) return;
      button.disabled = true;
      try {
        const response = await fetch(`${this.path}/fork`, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", ...CSRF_HEADERS },
          body: "{}",
        });
        if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);
        const forked = await response.json();
        window.location.assign(`/sessions/${encodeURIComponent(forked.id)}`);
      } catch (error) {
        button.after(el("span", "problem", ` Fork failed: ${error.message}`));
        button.disabled = false;
      }
    }
  }

  const main = document.getElementById("session");
  if (main) new SessionPage(main).start();
})();
