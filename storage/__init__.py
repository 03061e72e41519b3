"""SQLite storage: schema and migrations, frames and images, descriptions, jobs, queries, import."""
