# The ingest service and the central worker (same image, different command; see docker-compose.yml).
FROM node:20.19-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY common ./common
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY client ./client
COPY powershell ./powershell
USER node
EXPOSE 3000
CMD ["node", "bin/spawnguard.js", "--help"]
