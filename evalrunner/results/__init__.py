"""Result files: schema, safe reading, validation, writing and loading into frames."""
