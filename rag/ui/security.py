"""The page's Content-Security-Policy, sent on every response by an ASGI middleware."""

from __future__ import annotations

# The page may load scripts, styles, images, fonts and data only from itself (and images or
# fonts inlined as data:/blob:): an article or a model reply can never make a reader's browser
# fetch a remote URL. Gradio's page needs its inline scripts and styles ('unsafe-inline'), and
# Gradio 6's gr.HTML compiles its template with `new Function` ('unsafe-eval'): still no other host.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self' data: blob:",
        "worker-src 'self' blob:",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)


class SecurityHeaders:
    """ASGI middleware: every HTTP response carries the Content-Security-Policy (and nosniff)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"content-security-policy", b"x-content-type-options")
                ]
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)
