"""A variant's model artifacts: downloaded once per deployment, unpacked into each instance's sandbox.

SageMaker copies ModelDataUrl onto every instance and unpacks it into /opt/ml/model; script
mode's SAGEMAKER_SUBMIT_DIRECTORY (an S3 sourcedir.tar.gz) goes to /opt/ml/code. A replaced
instance gets a fresh sandbox from the same download, as a new instance gets a fresh disk.
An archive that cannot be read fails the deployment naming the URL.
"""

from __future__ import annotations

import tarfile
import threading
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ..errors import StepFailure
from ..s3_transfer import split_s3_uri
from ..sandbox import Sandbox
from .serving_container import ServingContainer
from .serving_errors import DeploymentFailure


class ModelArchive:
    def __init__(self, s3: Any, container: ServingContainer, folder: Path) -> None:
        self.s3 = s3
        self.container = container
        self.folder = folder
        self._lock = threading.Lock()
        self._downloaded = False

    def stage(self, sandbox: Sandbox) -> None:
        """Unpack the model (and the submitted code) into the sandbox's /opt/ml."""
        self._download_once()
        _extract(self.folder / "model.tar.gz", sandbox.host_path("/opt/ml/model"), f"ModelDataUrl {self.container.model_data_url}")
        code = sandbox.host_path("/opt/ml/code")
        code.mkdir(parents=True, exist_ok=True)
        if self.container.submit_directory.startswith("s3://"):
            _extract(self.folder / "sourcedir.tar.gz", code, f"SAGEMAKER_SUBMIT_DIRECTORY {self.container.submit_directory}")
        sandbox.host_path("/opt/ml/output").mkdir(parents=True, exist_ok=True)

    def _download_once(self) -> None:
        with self._lock:
            if self._downloaded:
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            self._download(self.container.model_data_url, self.folder / "model.tar.gz", "ModelDataUrl")
            if self.container.submit_directory.startswith("s3://"):
                self._download(self.container.submit_directory, self.folder / "sourcedir.tar.gz", "SAGEMAKER_SUBMIT_DIRECTORY")
            self._downloaded = True

    def _download(self, uri: str, target: Path, field: str) -> None:
        try:
            bucket, key = split_s3_uri(uri)
            self.s3.download_file(bucket, key, str(target))
        except StepFailure as error:
            raise DeploymentFailure(f"{field}: {error}") from None
        except ClientError as error:
            message = error.response.get("Error", {}).get("Message") or error.response.get("Error", {}).get("Code")
            raise DeploymentFailure(f"Failed to download model data: {field} {uri} cannot be read ({message}). "
                                    "Please ensure that the object exists and is a model.tar.gz.") from None


def _extract(archive: Path, destination: Path, what: str) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive) as bundle:
            bundle.extractall(destination, filter="data")
    except (tarfile.TarError, OSError) as error:
        raise DeploymentFailure(f"Failed to extract model data: {what} is not a tar.gz archive ({error})") from None
