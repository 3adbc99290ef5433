# vabot in a container: built on Debian 12 with the -dev packages, run on Debian 12 with
# the runtime libraries only. docker-compose.yml runs it next to PostgreSQL 15.
# Written without a Docker daemon at hand: untested.

FROM debian:12-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev make pkg-config \
        libcurl4-openssl-dev libcjson-dev libpq-dev libpcre2-dev libstemmer-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The data directories may not all exist in every revision; the runtime stage copies
# each of them.
RUN make -j"$(nproc)" all && mkdir -p grammar lexicon prompts

FROM debian:12-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libcurl4 libcjson1 libpq5 libpcre2-8-0 \
        libstemmer0d ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /var/lib/vabot vabot
COPY --from=build /src/build/vabot /opt/vabot/vabot
COPY --from=build /src/sql /opt/vabot/sql
COPY --from=build /src/grammar /opt/vabot/grammar
COPY --from=build /src/lexicon /opt/vabot/lexicon
COPY --from=build /src/prompts /opt/vabot/prompts
COPY --from=build /src/data/videos.sample.json /opt/vabot/data/videos.sample.json
COPY docker/entrypoint.sh /opt/vabot/entrypoint.sh
ENV VABOT_HOME=/opt/vabot PATH=/opt/vabot:$PATH
USER vabot
WORKDIR /var/lib/vabot
ENTRYPOINT ["/opt/vabot/entrypoint.sh"]
