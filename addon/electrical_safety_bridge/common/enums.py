"""Every enumeration that crosses the wire, defined once for the bridge and its clients.

Parsers keep a value they do not know as a plain string (see ``models.enum_or_str``): a
newer bridge may add a kind, and an older client must show it rather than fail.
"""

from __future__ import annotations

from enum import StrEnum


class DeviceKind(StrEnum):
    """What kind of detector a profile describes."""

    ARC_FAULT_DETECTOR = "arc_fault_detector"
    RESIDUAL_CURRENT_DETECTOR = "residual_current_detector"
    RESIDUAL_CURRENT_MONITOR = "residual_current_monitor"
    RESIDUAL_CURRENT_RELAY = "residual_current_relay"
    CIRCUIT_PROTECTOR = "circuit_protector"


class ChannelKind(StrEnum):
    """Semantic kind of a channel; a client maps each kind to one kind of entity."""

    RESIDUAL_CURRENT = "residual_current"
    TEMPERATURE = "temperature"
    VOLTAGE = "voltage"
    CURRENT = "current"
    POWER = "power"
    ENERGY = "energy"
    FREQUENCY = "frequency"
    ARC_COUNT = "arc_count"
    ALARM_STATUS = "alarm_status"
    FAULT_STATUS = "fault_status"
    BREAKER = "breaker"
    DIGITAL_INPUT = "digital_input"
    DIGITAL_OUTPUT = "digital_output"
    VALUE_AT_ALARM = "value_at_alarm"
    CONFIGURATION = "configuration"
    IDENTITY = "identity"


class SetpointKind(StrEnum):
    """Semantic kind of a setpoint; compliance rules key on it."""

    RESIDUAL_CURRENT_ALARM = "residual_current_alarm"
    RESIDUAL_CURRENT_PREWARNING = "residual_current_prewarning"
    TEMPERATURE_ALARM = "temperature_alarm"
    VOLTAGE_LIMIT = "voltage_limit"
    CURRENT_LIMIT = "current_limit"
    DELAY = "delay"
    MODE = "mode"
    ENABLE = "enable"


class CommandName(StrEnum):
    """Commands a profile may offer."""

    RESET = "reset"
    MUTE = "mute"
    SELF_TEST = "self_test"
    TRIP = "trip"
    CLOSE = "close"


class PollClass(StrEnum):
    """Which queue a channel is read in, from most to least urgent."""

    ALARM = "alarm"
    TELEMETRY = "telemetry"
    SLOW = "slow"


class AlarmKind(StrEnum):
    """What an open record is about."""

    ALARM = "alarm"
    WIRING_FAULT = "wiring_fault"


class EventType(StrEnum):
    """Every kind of event the bridge emits and stores."""

    ALARM_RAISED = "alarm_raised"
    ALARM_ACKNOWLEDGED = "alarm_acknowledged"
    ALARM_CLEARED = "alarm_cleared"
    WIRING_FAULT_RAISED = "wiring_fault_raised"
    WIRING_FAULT_ACKNOWLEDGED = "wiring_fault_acknowledged"
    WIRING_FAULT_CLEARED = "wiring_fault_cleared"
    DEVICE_OFFLINE = "device_offline"
    DEVICE_ONLINE = "device_online"
    BUS_DOWN = "bus_down"
    BUS_UP = "bus_up"
    # A line whose alarm polls cannot keep their interval: the interval is stretched to
    # what the line can hold, and said out loud; and the end of it.
    BUS_OVERLOADED = "bus_overloaded"
    BUS_OVERLOAD_CLEARED = "bus_overload_cleared"
    # The event store cannot write (a full disk): alarms go on in memory and on the
    # reserve; and the end of it, once everything held back is written.
    STORAGE_FAILING = "storage_failing"
    STORAGE_RECOVERED = "storage_recovered"
    COMMAND = "command"
    SETPOINT_CHANGED = "setpoint_changed"
    SELF_TEST = "self_test"
    # The off-site relay: a signed remote command, accepted or rejected, with the reason;
    # and a webhook endpoint that answered 410 Gone and is no longer sent to.
    REMOTE_COMMAND = "remote_command"
    RELAY_ENDPOINT_DISABLED = "relay_endpoint_disabled"
    # The workflow from alarm to resolution: each alarm or wiring fault opens a hazard,
    # which a person acknowledges, then eliminates once the cause is found and fixed.
    HAZARD_OPENED = "hazard_opened"
    HAZARD_ACKNOWLEDGED = "hazard_acknowledged"
    HAZARD_ELIMINATED = "hazard_eliminated"
    # A maintenance lock-out of a device (close refused on every path), and its end.
    LOCKOUT_SET = "lockout_set"
    LOCKOUT_LIFTED = "lockout_lifted"
    # Safety and compliance: a scheduled self-test's result (pass, fail or no response;
    # SELF_TEST above stays the record of a test a person started), a test that was due
    # and did not run, an inspection recorded or overdue.
    SELF_TEST_RESULT = "self_test_result"
    SELF_TEST_MISSED = "self_test_missed"
    INSPECTION_RECORDED = "inspection_recorded"
    INSPECTION_OVERDUE = "inspection_overdue"
    # Early warning: a channel's leakage or temperature rising towards its setpoint, with
    # the projected days to reach it; and the end of it.
    EARLY_WARNING = "early_warning"
    EARLY_WARNING_CLEARED = "early_warning_cleared"


class CommandOutcome(StrEnum):
    """How a command ended."""

    CONFIRMED = "confirmed"  # written, and the read-back shows the effect
    UNCONFIRMED = "unconfirmed"  # written (or maybe written); the read-back does not show it
    FAILED = "failed"  # nothing was written, or the device refused
    REFUSED = "refused"  # the bridge refused before writing


class RefusalReason(StrEnum):
    """Machine-readable reasons for refusing a command or an acknowledgement."""

    ALARM_ACTIVE = "alarm_active"
    ALARM_UNACKNOWLEDGED = "alarm_unacknowledged"
    PROFILE_UNVERIFIED = "profile_unverified"
    COMMAND_UNSUPPORTED = "command_unsupported"
    VALUE_OUT_OF_RANGE = "value_out_of_range"
    DEVICE_OFFLINE = "device_offline"
    UNKNOWN_DEVICE = "unknown_device"
    # The event store cannot record the command right now (a full disk): a command is
    # never executed unrecorded.
    STORAGE_FAILING = "storage_failing"
    # The device is locked out for maintenance: close is refused until the lock-out is
    # lifted (or its time runs out); trip and reads still work.
    LOCKED_OUT = "locked_out"
    # A hazard cannot be eliminated while a fresh read still shows its condition.
    CONDITION_PERSISTS = "condition_persists"


class HazardState(StrEnum):
    """Where a hazard is in its workflow: open → acknowledged → eliminated."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ELIMINATED = "eliminated"


class StorageState(StrEnum):
    """How well the bridge's data folder takes writes."""

    OK = "ok"
    #: The disk is full; events are stored in the room of the released reserve.
    ON_RESERVE = "on_reserve"
    #: Writes fail; events are held in memory, pushed unstored, and commands are refused.
    FAILING = "failing"


class HealthStatus(StrEnum):
    """The bridge's health in one word (``GET /health``, ``status`` messages)."""

    STARTING = "starting"
    OK = "ok"
    DEGRADED = "degraded"


class MessageType(StrEnum):
    """The ``type`` of a WebSocket message."""

    #: Bridge → client, first: the whole picture (``Snapshot``).
    SNAPSHOT = "snapshot"
    #: Bridge → client: one event of the log (``BridgeEvent``), stored or held.
    EVENT = "event"
    #: Bridge → client: the live state of one device (``DeviceState`` with its ``id``).
    DEVICE_STATE = "device_state"
    #: Bridge → client: the bridge's health, whenever it changes and every 30 s.
    STATUS = "status"
    #: Bridge → client: a hazard opened or moved on (``Hazard``), and the statistics
    #: after it (``HazardStatistics``).
    HAZARD = "hazard"
    #: Client → bridge, and the bridge's answer.
    PING = "ping"
    PONG = "pong"
    #: Bridge → client: the answer to a client message it cannot act on (not JSON, not an
    #: object, no known ``type``), with ``error`` and ``message`` as in an API error.
    ERROR = "error"


class ErrorCode(StrEnum):
    """The ``error`` of an error answer: stable, so a client re-raises the same error."""

    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    REQUEST_ENTITY_TOO_LARGE = "request_entity_too_large"
    REFUSED = "refused"
    UNKNOWN_DEVICE = "unknown_device"
    UNKNOWN_ALARM = "unknown_alarm"
    UNKNOWN_HAZARD = "unknown_hazard"
    STORAGE_FAILING = "storage_failing"
    BUS_UNAVAILABLE = "bus_unavailable"
    #: The client speaks a schema older than the bridge still serves.
    CLIENT_TOO_OLD = "client_too_old"
    INTERNAL_ERROR = "internal_error"


class Region(StrEnum):
    """Whose rules a site is held to (design.md, "Safety and compliance rules")."""

    CN = "cn"
    JP = "jp"
    GENERIC = "generic"


class SupplySystem(StrEnum):
    """How a site is supplied: the voltage the Japanese contract-current rule divides by."""

    SINGLE_PHASE_2WIRE_100V = "single_phase_2wire_100v"
    SINGLE_PHASE_2WIRE_200V = "single_phase_2wire_200v"
    SINGLE_PHASE_3WIRE = "single_phase_3wire"
    THREE_PHASE_3WIRE = "three_phase_3wire"


class ContractUnit(StrEnum):
    """The unit of a supply contract: amperes, or a power the rules turn into amperes."""

    AMPERE = "A"
    KVA = "kVA"
    KW = "kW"


class CtLocation(StrEnum):
    """Where a residual-current detector's CT sits (seed 004)."""

    SERVICE_ENTRANCE = "service_entrance"
    GROUNDING_WIRE = "grounding_wire"


class FindingSeverity(StrEnum):
    """How much a compliance finding matters; a finding warns and never blocks."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class ComplianceRule(StrEnum):
    """The rule a compliance finding comes from (``Finding.rule_id``): one id per clause
    checked. The clause each cites is in ``Finding.source``; the translated explanations are
    keyed by these ids on both sides (the bridge's catalogue, Home Assistant's repair
    issues)."""

    #: Seed 004 §5(3): CT rating below the guarded circuit's rated current.
    JP_CT_RATED = "JP-CT-RATED"
    #: Seed 004 §5(3) proviso: CT rating below 125 % of the contract current.
    JP_CT_125 = "JP-CT-125"
    #: Seed 004 §5(4): a grounding-wire CT rated below 20 % of the rated voltage's number.
    JP_CT_GROUND = "JP-CT-GROUND"
    #: Seed 004 §6: detection setpoint outside 100–400 mA (400–800 mA on a grounding wire).
    JP_RC_SETPOINT = "JP-RC-SETPOINT"
    #: Seed 004 §3(4): contracts in different units, which the seed does not add up.
    JP_CONTRACT_UNITS = "JP-CONTRACT-UNITS"
    #: GB 50116-2013 §9.2.3: residual-current setpoint outside 300–500 mA.
    CN_RC_SETPOINT = "CN-RC-SETPOINT"
    #: GB 14287.2-2014 §5 (unverified): residual-current setpoint outside 20–1000 mA.
    CN_RC_RANGE = "CN-RC-RANGE"
    #: GB 14287.3-2014 §5 (unverified): temperature setpoint outside 45–140 °C.
    CN_T_RANGE = "CN-T-RANGE"
    #: GB 50166-2019 §4.8.5–4.8.6: a self-test alarm later than 30 s (40 s temperature).
    CN_ALARM_TIME = "CN-ALARM-TIME"
    #: GB 50166-2019 §4.8.5–4.8.6: a self-test that raised no alarm at all.
    CN_NO_ALARM = "CN-NO-ALARM"
    #: GB 50116-2013 §9.1.6: an automation trips a breaker without a person.
    CN_AUTO_TRIP = "CN-AUTO-TRIP"
    #: A rule could not be checked: a fact it needs is not known (``params``: ``rule``,
    #: ``fact``).
    MISSING_FACT = "MISSING-FACT"


class SelfTestResult(StrEnum):
    """How a self-test ended, judged by reading back the device's test or alarm indication
    within the standard's time."""

    PASSED = "pass"
    FAILED = "fail"
    NO_RESPONSE = "no_response"
    #: It was due and did not run (the bus or the device was down).
    MISSED = "missed"


class InspectionKind(StrEnum):
    """The periodic inspections a person records."""

    #: Japan: equipment check, every six months (seed 004).
    JP_EQUIPMENT_CHECK = "jp_equipment_check"
    #: Japan: overall check, every year (seed 004).
    JP_OVERALL_CHECK = "jp_overall_check"
    #: China: the routine patrol of the fire-monitoring system.
    CN_ROUTINE_PATROL = "cn_routine_patrol"
    #: Japan: the installation checklist of seed 004 §4, §5 and §7, ticked once.
    JP_INSTALLATION = "jp_installation"


class SelfTestTrigger(StrEnum):
    """Who started a self-test: the bridge's schedule, or a person (button, service, API)."""

    SCHEDULED = "scheduled"
    MANUAL = "manual"


class InspectionOutcome(StrEnum):
    """What an inspector found for one checklist item."""

    OK = "ok"
    NOT_OK = "not_ok"
    NOT_APPLICABLE = "not_applicable"
