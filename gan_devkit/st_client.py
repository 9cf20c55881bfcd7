"""A browser tab without the browser: Streamlit's own websocket protocol (protobuf BackMsg/ForwardMsg),
light enough to keep 30 sessions open on 2 cores for a load test.

It does what the frontend does for our pages: asks for a page run, reads the elements the server
sends (widget ids by key, metrics, alerts, code blocks, exceptions), clicks buttons by key, and keeps
every `st.fragment(run_every=...)` ticking on its interval, one request in flight at a time. It does
not draw and does not fetch media (images stay on the server's media endpoint, as for a tab in the
background), so the server's work per tab is what a real tab costs it.

    tab = StreamlitTab("http://127.0.0.1:8501", page="train", query="class=abc")
    await tab.open(); await tab.until(lambda t: "train.start" in t.widgets)
    await tab.click("train.start")
"""
import asyncio
import time

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState


class StreamlitTab:
    def __init__(self, base_url: str, page: str = "", query: str = ""):
        self.ws_url = base_url.replace("http", "ws", 1) + "/_stcore/stream"
        self.page, self.query = page, query
        self.widgets: dict[str, str] = {}      # user key -> widget id
        self.metrics: dict[str, str] = {}      # metric label -> newest value
        self.alerts: list[tuple[float, str]] = []   # (time, text) of every st.info/warning/error/success
        self.codes: list[str] = []             # st.code bodies, newest last
        self.exceptions: list[str] = []
        self.page_not_found = 0
        self.latencies: list[tuple[str, float]] = []  # (fragment id or "" for the page, send -> finished)
        self.closed_by_server = False       # the connection ended (by us or by the server)
        self.dropped = False                # ... and not because we closed it
        self._closing = False
        self._ws = None
        self._reader = None
        self._timers: dict[str, asyncio.Task] = {}
        self._in_flight: tuple[float, str] | None = None
        self.page_hash = ""          # the page this tab shows (st.navigation's message tells it)
        self.lost = 0                # requests the server never answered within lost_after_s
        self.lost_after_s = 30.0

    # ------------------------------------------------------------------ life
    async def open(self) -> None:
        self._ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                            open_timeout=60, ping_interval=None)
        self._reader = asyncio.create_task(self._read())
        await self._rerun()

    async def close(self) -> None:
        self._closing = True
        for task in self._timers.values():
            task.cancel()
        self._timers.clear()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()

    @property
    def answered(self) -> bool:
        """No request of this tab is waiting for its script_finished: a page run has sent all it draws."""
        return self._in_flight is None

    async def until(self, predicate, timeout: float = 120.0, poll: float = 0.1) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate(self):
                return True
            if self.closed_by_server:
                return False
            await asyncio.sleep(poll)
        return False

    # ------------------------------------------------------------------ requests
    async def click(self, key: str) -> None:
        await self._rerun(widgets=[WidgetState(id=self.widgets[key], trigger_value=True)])

    async def _rerun(self, fragment_id: str = "", widgets=()) -> None:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string, state.page_name = self.query, self.page
        state.page_script_hash = self.page_hash  # as the frontend: a rerun the server starts itself
                                                 # (st.rerun) stays on this page, not the default one
        state.widget_states.widgets.extend(widgets)
        if fragment_id:
            state.fragment_id, state.is_auto_rerun = fragment_id, True
        else:  # a full run: the frontend drops its fragment clocks; the run sends the live ones again
            for task in self._timers.values():
                task.cancel()
            self._timers.clear()
        self._in_flight = (time.monotonic(), fragment_id)
        await self._ws.send(msg.SerializeToString())

    async def _tick_every(self, interval: float, fragment_id: str) -> None:
        while True:
            await asyncio.sleep(interval)
            if self._in_flight is not None and time.monotonic() - self._in_flight[0] > self.lost_after_s:
                self.lost += 1          # never answered: count it, and do not let it block the tab
                self._in_flight = None
            if self._in_flight is None:  # like a busy tab: the next tick waits for the last answer
                await self._rerun(fragment_id)

    # ------------------------------------------------------------------ answers
    async def _read(self) -> None:
        try:
            async for data in self._ws:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._take(msg)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed_by_server = True
            self.dropped = not self._closing

    def _take(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            self._element(msg.delta.new_element)
        elif kind == "navigation":
            # app.py ran st.navigation: a full run (asked by us or by an st.rerun on the server). Its
            # fragments register their clocks anew (a fragment run sends new_session, never navigation),
            # and it names the page, which every later request carries, as the frontend's do.
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
            for task in self._timers.values():
                task.cancel()
            self._timers.clear()
        elif kind == "auto_rerun":
            fid = msg.auto_rerun.fragment_id
            if fid not in self._timers:
                self._timers[fid] = asyncio.create_task(self._tick_every(msg.auto_rerun.interval, fid))
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                task = self._timers.pop(fid, None)
                if task:
                    task.cancel()
        elif kind == "script_finished":
            if self._in_flight is not None:
                sent, fid = self._in_flight
                self.latencies.append((fid, time.monotonic() - sent))
                self._in_flight = None
        elif kind == "page_not_found":
            self.page_not_found += 1

    def _element(self, el) -> None:
        kind = el.WhichOneof("type")
        body = getattr(el, kind, None)
        wid = getattr(body, "id", "") if body is not None else ""
        if isinstance(wid, str) and wid.startswith("$$ID-"):
            self.widgets[wid.split("-", 2)[2]] = wid
        if kind == "metric":
            self.metrics[el.metric.label] = el.metric.body
        elif kind == "alert":
            self.alerts.append((time.monotonic(), el.alert.body))
        elif kind == "code":
            self.codes.append(el.code.code_text)
        elif kind == "exception":
            self.exceptions.append(f"{el.exception.type}: {el.exception.message}")
