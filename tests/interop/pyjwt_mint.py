"""Mints one JWT with Python's PyJWT, for tokens.test.js (a library nobody here wrote).

Reads {"alg": "HS256"|"ES256"|..., "key": secret text or a PEM file's path, "kid": ... or
null, "claims": {...}} as JSON on stdin and prints the token.
"""

import json
import sys

import jwt

request = json.load(sys.stdin)
key = request["key"]
if request["alg"] != "HS256":
    with open(key, "rb") as pem:
        key = pem.read()
headers = {"kid": request["kid"]} if request.get("kid") else None
print(jwt.encode(request["claims"], key, algorithm=request["alg"], headers=headers))
