"""The assistant's quality report: labelled requests and their runner."""
