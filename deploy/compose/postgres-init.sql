-- The Prefect server keeps its own database next to the app's (docker-compose.yml).
CREATE DATABASE prefect OWNER maily;
