"""The two model back-ends the narrator can ask: Ollama's /api/generate and an OpenAI-compatible chat API.

Both raise ModelUnavailable with a one-line reason on any failure (refused, timeout, non-200,
malformed answer), so the fallback chain treats them alike.
"""

import json

import requests


class ModelUnavailable(Exception):
    """A model back-end did not produce an answer."""


def ollama_payload(model, prompt, max_tokens, temperature):
    """The exact body sent to Ollama; key order and json.dumps' default separators are part of the contract."""
    return json.dumps({
        "model": model,
        "prompt": prompt,
        "stream": False,
        "options": {"num_predict": max_tokens, "temperature": temperature, "top_k": 40, "top_p": 0.9},
    })


def _post_json(url, body, timeout, headers=None):
    try:
        response = requests.post(
            url, data=body.encode("utf-8"), timeout=timeout,
            headers={"Content-Type": "application/json", **(headers or {})})
    except requests.Timeout:
        raise ModelUnavailable(f"{url} did not answer within {timeout} s")
    except requests.RequestException as error:
        raise ModelUnavailable(f"{url} unreachable: {error.__class__.__name__}")
    if response.status_code != 200:
        raise ModelUnavailable(f"{url} answered {response.status_code}: {response.text[:200]}")
    try:
        return response.json()
    except ValueError:
        raise ModelUnavailable(f"{url} answered with a body that is not JSON")


def ollama_generate(settings, model, prompt, max_tokens, temperature):
    """The model's answer text from Ollama (non-streaming)."""
    data = _post_json(f"{settings.ollama_url}/api/generate",
                      ollama_payload(model, prompt, max_tokens, temperature), settings.timeout_seconds)
    text = data.get("response") if isinstance(data, dict) else None
    if not isinstance(text, str):
        raise ModelUnavailable("Ollama's answer has no 'response' text")
    return text


def _chat_completions_url(base_url):
    # OPENAI_BASE_URL may be given with or without the /v1 the OpenAI SDKs expect.
    return f"{base_url}/chat/completions" if base_url.endswith("/v1") else f"{base_url}/v1/chat/completions"


def cloud_generate(settings, prompt, max_tokens, temperature):
    """The answer text from the OpenAI-compatible endpoint at OPENAI_BASE_URL."""
    body = json.dumps({
        "model": settings.openai_model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "temperature": temperature,
    })
    data = _post_json(_chat_completions_url(settings.openai_base_url), body, settings.timeout_seconds,
                      headers={"Authorization": f"Bearer {settings.openai_api_key}"})
    try:
        text = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise ModelUnavailable("the cloud answer has no choices[0].message.content")
    if not isinstance(text, str):
        raise ModelUnavailable("the cloud answer's content is not text")
    return text


def ollama_models(settings, timeout):
    """Names of the models Ollama has (GET /api/tags)."""
    try:
        response = requests.get(f"{settings.ollama_url}/api/tags", timeout=timeout)
        response.raise_for_status()
        return [model.get("name") for model in response.json().get("models", [])]
    except (requests.RequestException, ValueError, AttributeError) as error:
        raise ModelUnavailable(f"Ollama /api/tags failed: {error.__class__.__name__}")
