"""The baseline: bare Starlette routes served by the same uvicorn, at the paths the benchmark drives.

Routes that take a body read and parse it (as any JSON API must) and answer a small JSON object; they do
nothing else, so the ratio to callyard is what callyard's own work costs on top of the HTTP stack.
"""
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(_request):
    return JSONResponse({"status": "ok"})


async def echo(request):
    body = await request.json() if (await request.body()).strip() else {}
    return JSONResponse({"status": "ok", "received": body, **request.path_params},
                        status_code=201 if request.url.path == "/_callyard/sim/calls" else 200)


async def form(request):
    fields = await request.form()
    return JSONResponse({"status": "ok", "received": dict(fields)}, status_code=201)


app = Starlette(routes=[
    Route("/_callyard/health", hello), Route("/2017-09-01/users", hello),
    Route("/2017-09-01/endpoints/{endpointId}/calls/{callId}", echo, methods=["PUT"]),
    Route("/_callyard/sim/calls", echo, methods=["POST"]),
    Route("/_callyard/sim/endpoints/{endpointId}/{action}", echo, methods=["POST"]),
    # bench/hot.py: the token endpoint (a form), UC CTI call control, CX employee state
    Route("/2017-09-01/token", form, methods=["POST"]),
    Route("/api/cti/{domain}/{user}/calls/{callId}/{action}", echo, methods=["POST"]),
    Route("/miccsdk/api/v1/employees/{id}/state", echo, methods=["PUT"]),
])
