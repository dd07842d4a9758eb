using System.Text.Json.Serialization;

namespace PowerService.Grains.Energy;

// Journal payloads of an area's energy, on the area's stream (area:{id}); the event type is the record name. Public:
// the indicators read them from the journal. Formulas and flags: docs/line-loss.md.

/// <summary>One period's line loss, measured when the period closes. Energies in kWh, rounded to Wh; LossRate is
/// LossKwh / SupplyKwh (null when the supply meter reported no energy).</summary>
public sealed record LineLossMeasured(
    DateTimeOffset PeriodStart,
    DateTimeOffset PeriodEnd,
    string SupplyMeterId,
    double SupplyKwh,
    double DeliveredKwh,
    double LossKwh,
    double? LossRate,
    int CustomerMeters,
    int ReportingMeters,
    double Coverage,
    IReadOnlyList<LineLossFlag> Flags);

[JsonConverter(typeof(JsonStringEnumConverter<LineLossFlag>))]
public enum LineLossFlag
{
    /// <summary>The loss rate is above <see cref="EnergyOptions.HighLossRate"/> (高损台区).</summary>
    HighLoss,

    /// <summary>The customers' meters recorded more than the supply meter (负损): a meter or topology error.</summary>
    NegativeLoss,

    /// <summary>Fewer customer meters reported than <see cref="EnergyOptions.MinCoverage"/> asks: the rate overstates the loss.</summary>
    IncompleteCoverage,

    /// <summary>The supply meter reported nothing in the period: no rate can be given.</summary>
    NoSupplyReading,
}

[JsonConverter(typeof(JsonStringEnumConverter<VoltageDeviation>))]
public enum VoltageDeviation
{
    High,
    Low,
}

/// <summary>A meter's voltage left the allowed band (journaled once, when it leaves, or when it crosses from one side
/// to the other).</summary>
public sealed record VoltageOutOfRange(
    string MeterId, string EventId, DateTimeOffset At, double Voltage, VoltageDeviation Deviation, double LowerLimit, double UpperLimit);

/// <summary>A meter's voltage came back into the band; <paramref name="OutOfRangeSince"/> is when it left.</summary>
public sealed record VoltageNormal(string MeterId, string EventId, DateTimeOffset At, double Voltage, DateTimeOffset OutOfRangeSince);
