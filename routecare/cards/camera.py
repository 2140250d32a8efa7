"""A video of a QR code held up to a camera, for Chromium's fake capture device
(``--use-file-for-fake-video-capture``): the browser tests and the bench scan with it."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from routecare.cards import qr


def fake_camera_args(video: Path) -> list[str]:
    """Chromium's switches for a camera that plays ``video`` and is allowed without asking."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]


def qr_video(text: str, path: Path) -> None:
    """A Y4M video (640 x 480, five frames) of ``text`` as a QR code on a grey background."""
    code = Image.open(io.BytesIO(qr.png(text, scale=5))).convert("RGB")
    frame = Image.new("RGB", (640, 480), (90, 90, 90))
    frame.paste(code.resize((420, 420)), (110, 30))
    ycbcr = frame.convert("YCbCr")
    luma, blue, red = ycbcr.split()
    planes = luma.tobytes() + blue.resize((320, 240)).tobytes() + red.resize((320, 240)).tobytes()
    with path.open("wb") as video:
        video.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(5):
            video.write(b"FRAME\n" + planes)
