"""Why a subsidy write was refused: error codes (an enum the tests assert) and the
exceptions the services raise and the HTTP layer renders."""

from django.db.models import TextChoices


class SubsidyErrorCode(TextChoices):
    INVALID = "invalid", "The input breaks a rule"
    BUDGET_EXHAUSTED = "budget_exhausted", "The budget cannot pay for this"
    BUDGET_BELOW_COMMITTED = "budget_below_committed", "A cut would go below what is committed"
    BUDGET_OVERLAP = "budget_overlap", "The region has a budget for an overlapping period"
    BATCH_EXHAUSTED = "batch_exhausted", "Every coupon of the batch has been claimed"
    STORE_LIMIT_REACHED = "store_limit_reached", "The store claimed its limit of this batch"
    CAMPAIGN_NOT_APPROVED = "campaign_not_approved", "The campaign is not approved (or closed)"
    WRONG_STATUS = "wrong_status", "The campaign is not in the status this needs"
    CLAIM_WINDOW = "claim_window", "Outside the batch's claim window"
    NOT_TARGETED = "not_targeted", "The store is not a target of the campaign"
    IN_HOLDOUT = "in_holdout", "The store is in the campaign's holdout group"
    ZERO_SUBSIDY = "zero_subsidy", "The formula gives this store nothing"
    COUPON_USED = "coupon_used", "The coupon has been used"
    COUPON_EXPIRED = "coupon_expired", "The coupon expired"
    USE_WINDOW = "use_window", "Outside the coupon's use window"
    ORDER_HAS_COUPON = "order_has_coupon", "The order already carries a coupon"
    ORDER_OF_ANOTHER_STORE = "order_of_another_store", "The order is not the coupon's store's"
    MARGIN_FLOOR = "margin_floor", "The coupon would push the order's margin below the floor"


class SubsidyError(Exception):
    """A refused subsidy write: `status` 400 for input that breaks a rule, 409 for a limited
    resource that is used up or a state that moved on. Nothing was written."""

    status = 400

    def __init__(self, code: SubsidyErrorCode, message: str, *, field: str = "detail"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class SubsidyConflict(SubsidyError):
    status = 409
