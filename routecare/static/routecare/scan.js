// Camera scanning for the "Read a card" and "Open a pre-registration" pages. The decoded text goes into the form and is posted
// (never put in a URL or browser storage); the server verifies and decrypts it. Without a camera
// or JavaScript the photo upload and the text box still work.
(() => {
  const box = document.querySelector("[data-card-camera]");
  const form = document.querySelector("[data-card-form]");
  if (!box || !form || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  const video = box.querySelector("video");
  const start = box.querySelector("[data-camera-start]");
  // The card's text box, or the box a page marks (a pre-registration code).
  const field = form.querySelector("[data-scan-field]") || form.querySelector("textarea[name=text]");
  const detector = "BarcodeDetector" in window ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  let stream = null;
  box.hidden = false;

  const stop = () => {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
  };

  const found = (text) => {
    stop();
    field.value = text;
    form.submit();
  };

  const decodeFrame = async () => {
    if (!stream) return;
    if (video.readyState >= 2) {
      if (detector) {
        const codes = await detector.detect(video).catch(() => []);
        if (codes.length) return found(codes[0].rawValue);
      } else if (window.jsQR) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0);
        const frame = context.getImageData(0, 0, canvas.width, canvas.height);
        const code = window.jsQR(frame.data, frame.width, frame.height, { inversionAttempts: "dontInvert" });
        if (code && code.data) return found(code.data);
      }
    }
    requestAnimationFrame(decodeFrame);
  };

  // The fallback decoder is large: fetched only when the camera is used, never on page load.
  const loadDecoder = () => {
    if (detector || window.jsQR || document.querySelector("script[data-jsqr]")) return;
    const script = document.createElement("script");
    script.src = box.dataset.decoder;
    script.async = true;
    script.dataset.jsqr = "";
    document.head.append(script);
  };

  start.addEventListener("click", async () => {
    loadDecoder();
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (error) {
      start.disabled = true;
      return;
    }
    video.srcObject = stream;
    await video.play();
    requestAnimationFrame(decodeFrame);
  });
  window.addEventListener("pagehide", stop);
})();
