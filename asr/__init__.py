"""Offline speech recognition with Vosk: live AudioSocket streams and finished recordings.

Wiring (once, at start-up)::

    model = await asyncio.to_thread(load_model, default_model_path())   # or a settings path
    engine = SpeechEngine(model, max_streams=8, threads=2)
    server = AudioSocketServer(engine, host="127.0.0.1", port=9092)
    await server.start()

This package never imports `hotline`; settings are passed in by the caller.
"""

from asr.batch import AudioFileError, FileTranscript, load_pcm, transcribe_file, transcribe_pcm
from asr.endpoint import EndpointConfig, EndReason
from asr.engine import DecodersBusy, EngineStats, RecognitionStream, SpeechEngine
from asr.events import FinalTranscript, PartialTranscript, Subscription, TranscriptEvents
from asr.model import (
    MODEL_ENV_VAR,
    LoadedModel,
    ModelError,
    check_model_dir,
    default_model_path,
    load_model,
)
from asr.results import SpeechResult, Transcript, Word, display_text
from asr.server import AudioSocketServer, SpeechStep, SpeechStepError

__all__ = [
    "MODEL_ENV_VAR",
    "AudioFileError",
    "AudioSocketServer",
    "DecodersBusy",
    "EndReason",
    "EndpointConfig",
    "EngineStats",
    "FileTranscript",
    "FinalTranscript",
    "LoadedModel",
    "ModelError",
    "PartialTranscript",
    "RecognitionStream",
    "SpeechEngine",
    "SpeechResult",
    "SpeechStep",
    "SpeechStepError",
    "Subscription",
    "Transcript",
    "TranscriptEvents",
    "Word",
    "check_model_dir",
    "default_model_path",
    "display_text",
    "load_model",
    "load_pcm",
    "transcribe_file",
    "transcribe_pcm",
]
