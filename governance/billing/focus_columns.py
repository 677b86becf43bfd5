"""The FOCUS 1.2 column list (FinOps Open Cost and Usage Specification): name, data type,
feature level and whether nulls are allowed, as the specification's column pages state them.

Types: ``Decimal`` (a decimal number as text), ``DateTime`` (ISO 8601 UTC,
``YYYY-MM-DDTHH:mm:ssZ``), ``String``, ``JSON`` (a JSON object as text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DataType = Literal["Decimal", "DateTime", "String", "JSON"]
Level = Literal["Mandatory", "Recommended", "Conditional"]


@dataclass(frozen=True)
class FocusColumn:
    name: str
    type: DataType
    level: Level
    nullable: bool


def _c(name: str, type_: DataType, level: Level, nullable: bool = True) -> FocusColumn:
    return FocusColumn(name, type_, level, nullable)


COLUMNS: tuple[FocusColumn, ...] = (
    _c("AvailabilityZone", "String", "Recommended"),
    _c("BilledCost", "Decimal", "Mandatory", False),
    _c("BillingAccountId", "String", "Mandatory", False),
    _c("BillingAccountName", "String", "Mandatory"),
    _c("BillingAccountType", "String", "Conditional"),
    _c("BillingCurrency", "String", "Mandatory", False),
    _c("BillingPeriodEnd", "DateTime", "Mandatory", False),
    _c("BillingPeriodStart", "DateTime", "Mandatory", False),
    _c("CapacityReservationId", "String", "Conditional"),
    _c("CapacityReservationStatus", "String", "Conditional"),
    _c("ChargeCategory", "String", "Mandatory", False),
    _c("ChargeClass", "String", "Mandatory"),
    _c("ChargeDescription", "String", "Mandatory"),
    _c("ChargeFrequency", "String", "Recommended", False),
    _c("ChargePeriodEnd", "DateTime", "Mandatory", False),
    _c("ChargePeriodStart", "DateTime", "Mandatory", False),
    _c("CommitmentDiscountCategory", "String", "Conditional"),
    _c("CommitmentDiscountId", "String", "Conditional"),
    _c("CommitmentDiscountName", "String", "Conditional"),
    _c("CommitmentDiscountQuantity", "Decimal", "Conditional"),
    _c("CommitmentDiscountStatus", "String", "Conditional"),
    _c("CommitmentDiscountType", "String", "Conditional"),
    _c("CommitmentDiscountUnit", "String", "Conditional"),
    _c("ConsumedQuantity", "Decimal", "Conditional"),
    _c("ConsumedUnit", "String", "Conditional"),
    _c("ContractedCost", "Decimal", "Mandatory", False),
    _c("ContractedUnitPrice", "Decimal", "Conditional"),
    _c("EffectiveCost", "Decimal", "Mandatory", False),
    _c("InvoiceId", "String", "Recommended"),
    _c("InvoiceIssuerName", "String", "Mandatory", False),
    _c("ListCost", "Decimal", "Mandatory", False),
    _c("ListUnitPrice", "Decimal", "Conditional"),
    _c("PricingCategory", "String", "Conditional"),
    _c("PricingCurrency", "String", "Conditional"),
    _c("PricingCurrencyContractedUnitPrice", "Decimal", "Conditional"),
    _c("PricingCurrencyEffectiveCost", "Decimal", "Conditional"),
    _c("PricingCurrencyListUnitPrice", "Decimal", "Conditional"),
    _c("PricingQuantity", "Decimal", "Mandatory"),
    _c("PricingUnit", "String", "Mandatory"),
    _c("ProviderName", "String", "Mandatory", False),
    _c("PublisherName", "String", "Mandatory", False),
    _c("RegionId", "String", "Conditional"),
    _c("RegionName", "String", "Conditional"),
    _c("ResourceId", "String", "Conditional"),
    _c("ResourceName", "String", "Conditional"),
    _c("ResourceType", "String", "Conditional"),
    _c("ServiceCategory", "String", "Mandatory", False),
    _c("ServiceName", "String", "Mandatory", False),
    _c("ServiceSubcategory", "String", "Recommended"),
    _c("SkuId", "String", "Conditional"),
    _c("SkuMeter", "String", "Conditional"),
    _c("SkuPriceDetails", "JSON", "Conditional"),
    _c("SkuPriceId", "String", "Conditional"),
    _c("SubAccountId", "String", "Conditional"),
    _c("SubAccountName", "String", "Conditional"),
    _c("SubAccountType", "String", "Conditional"),
    _c("Tags", "JSON", "Conditional"),
)
NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
BY_NAME: dict[str, FocusColumn] = {c.name: c for c in COLUMNS}

# Allowed values of the enumerated columns we fill.
CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
CHARGE_CLASSES = (None, "Correction")
CHARGE_FREQUENCIES = ("One-Time", "Recurring", "Usage-Based")
PRICING_CATEGORIES = (None, "Standard", "Dynamic", "Committed", "Other")
SERVICE_CATEGORIES = (
    "AI and Machine Learning",
    "Analytics",
    "Business Applications",
    "Compute",
    "Databases",
    "Developer Tools",
    "Multicloud",
    "Identity",
    "Integration",
    "Internet of Things",
    "Management and Governance",
    "Media",
    "Migration",
    "Mobile",
    "Networking",
    "Security",
    "Storage",
    "Web",
    "Other",
)
