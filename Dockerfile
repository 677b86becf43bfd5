# loregate API / worker image (CPU only). The same setup script as on a developer machine;
# torch comes from PyTorch's CPU index so no CUDA build is pulled.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    libmagic1 poppler-utils tesseract-ocr && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/loregate
COPY . .
ENV PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN ./scripts/setup.sh
ENV PATH=/opt/loregate/.venv/bin:$PATH
EXPOSE 8000
CMD ["loregate", "serve", "--host", "0.0.0.0", "--port", "8000"]
