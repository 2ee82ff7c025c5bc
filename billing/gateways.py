"""The payment gateway interface, and the development gateway that settles at once.

`settings.PAYMENT_GATEWAY` names the class by dotted path; `gateway()` makes the instance.
A production gateway (a card, WeChat Pay or Alipay acquirer) implements `PaymentGateway`:

- `submit` is called by `billing.services.payment_process` *outside* any database
  transaction, for a payment already claimed (status processing), at least once: it must be
  idempotent on `request.key` (send it as the provider's idempotency key / out_trade_no), so
  a retry after a crash never moves money twice.
- It answers `GatewayResult(status=...)`: `settled` when the money has moved, `failed` with a
  reason when it never will, or `pending` when the provider confirms later (by a webhook or
  a query): then call `billing.services.payment_confirm(payment_id=..., settled=..., ...)`.
- `settles_at_once = True` only for an in-process gateway with no network call (the
  development one): the payment then settles inside the money event's own transaction.
"""

from __future__ import annotations

import abc
import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from django.conf import settings
from django.utils.module_loading import import_string


class GatewayStatus(str, Enum):
    SETTLED = "settled"
    PENDING = "pending"
    FAILED = "failed"


@dataclass(frozen=True)
class GatewayRequest:
    """What the gateway is asked to do. `direction` is collect (from a client), refund (to a
    client) or payout (to a counselor); `party_id` is that user's id."""

    key: uuid.UUID
    direction: str
    amount: Decimal
    currency: str
    party_id: int
    description: str


@dataclass(frozen=True)
class GatewayResult:
    status: GatewayStatus
    reference: str = ""
    failure: str = ""


class PaymentGateway(abc.ABC):
    """The interface every gateway implements (see the module's docstring)."""

    settles_at_once: bool = False

    @abc.abstractmethod
    def submit(self, request: GatewayRequest) -> GatewayResult:
        """Move the money, or start moving it. Idempotent on `request.key`."""


class DevelopmentGateway(PaymentGateway):
    """Settles every request at once, in process, and moves no real money."""

    settles_at_once = True

    def submit(self, request: GatewayRequest) -> GatewayResult:
        return GatewayResult(status=GatewayStatus.SETTLED, reference=f"dev-{request.key}")


class ProductionGateway(PaymentGateway):
    """The production gateway's place: an adapter for the acquirer, written against its API
    when the contract is signed. Until then it refuses, so a production site configured
    without one never pretends to have been paid."""

    def submit(self, request: GatewayRequest) -> GatewayResult:
        raise NotImplementedError(
            "Set PAYMENT_GATEWAY to an adapter implementing billing.gateways.PaymentGateway."
        )


def gateway() -> PaymentGateway:
    return import_string(settings.PAYMENT_GATEWAY)()
