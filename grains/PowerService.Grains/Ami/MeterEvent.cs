namespace PowerService.Grains.Ami;

/// <summary>What a smart meter reports through the AMI head-end.</summary>
public enum MeterEventType
{
    /// <summary>The meter lost supply (sent on its last stored energy).</summary>
    LastGasp,

    /// <summary>Supply came back.</summary>
    PowerRestored,

    /// <summary>An interval reading: energy in the interval ending at <see cref="MeterEvent.At"/>, voltage, load.</summary>
    Reading,
}

/// <summary>One meter event. (<paramref name="MeterId"/>, <paramref name="EventId"/>) identifies it: the head-end may
/// deliver it more than once and it counts once. <paramref name="Kwh"/> is the energy of the interval that ends at
/// <paramref name="At"/> (readings only); <paramref name="Voltage"/> in volts, <paramref name="LoadKw"/> in kW.</summary>
public sealed record MeterEvent(
    string MeterId,
    string EventId,
    MeterEventType Type,
    DateTimeOffset At,
    double? Kwh = null,
    double? Voltage = null,
    double? LoadKw = null);
