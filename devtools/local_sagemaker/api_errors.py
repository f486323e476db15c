"""No request ever gets an HTML 500: what the endpoint cannot answer is an error in AWS's format.

moto answers an action it does not implement (and any bug of its own) with werkzeug's HTML
"500 Internal Server Error" page. botocore cannot read it, and retries a 500 (up to ten times
with the SDK's adaptive retry config), so the caller waits and then sees nothing useful. Here
every service's Flask app answers such a request at once with a 501 (which botocore does not
retry) in the caller's protocol: JSON (`__type`, `message`, `x-amzn-ErrorType`) for JSON
services, the XML `ErrorResponse` for query and REST-XML ones; the message names the service and
the action. An action not implemented is `NotImplemented`; a failure of the endpoint itself is
`InternalFailure`, with the exception, and its traceback goes to the endpoint's log; an
operation the service does not have is AWS's 400 `UnknownOperationException`.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import OperationNotFoundError
from flask import Flask, request
from moto.moto_server.werkzeug_app import create_backend_app
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

NOT_SERVED_STATUS = 501
logger = logging.getLogger(__name__)


def create_app(service: Any) -> Flask:
    """moto's app for one service, with the error answer installed."""
    app = create_backend_app(service)
    app.register_error_handler(Exception, lambda error: _answer(str(service), error, request))
    return app


class ErrorAnsweringApp:
    """WSGI wrapper of moto's dispatcher: a failure before any service app runs (building one, say) is answered too."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        try:
            return self.app(environ, start_response)
        except Exception as error:
            return _answer("endpoint", error, Request(environ))(environ, start_response)


def _answer(service: str, error: Exception, request: Request) -> Any:
    if isinstance(error, HTTPException):
        return error
    action = _action(request)
    status = NOT_SERVED_STATUS
    if isinstance(error, OperationNotFoundError):
        code, status = "UnknownOperationException", 400  # what AWS answers an operation the service lacks
        message = f"The {service} service has no operation {action}"
    elif isinstance(error, NotImplementedError):
        code = "NotImplemented"
        detail = f": {error}" if str(error) else ""
        message = (f"The local endpoint does not implement the {service} action {action}{detail} "
                   "(see docs/local-endpoint.md for what it serves)")
    else:
        logger.exception("The local endpoint failed on %s %s", service, action)
        code = "InternalFailure"
        message = f"The local endpoint failed on the {service} action {action}: {type(error).__name__}: {error}"
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-ErrorType": code, "x-amzn-RequestId": request_id}
    if request.headers.get("X-Amz-Target") or "json" in (request.content_type or ""):
        body = json.dumps({"__type": code, "message": message})
        return Response(body, status, {**headers, "Content-Type": "application/x-amz-json-1.1"})
    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    return Response(body, status, {**headers, "Content-Type": "text/xml"})


def _action(request: Request) -> str:
    target = request.headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    named = request.args.get("Action") or request.form.get("Action")
    return named or f"{request.method} {request.path}"
