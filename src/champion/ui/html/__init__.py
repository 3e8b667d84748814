"""The pages' HTML, rendered on the server from the documents. Every value is escaped."""
