"""The baseline: a bare Starlette route served by the same uvicorn."""
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(_request):
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/_callyard/health", hello), Route("/2017-09-01/users", hello)])
