"""Import-only stand-in for ESP-IDF's idf_ci_utils (see README.md): IDF_PATH only."""
import os

IDF_PATH = os.environ.get('IDF_PATH', '')
