namespace PowerService.Grains.Topology;

/// <summary>How much an outage at this customer matters: critical customers are hospitals, water works and the like.</summary>
public enum CustomerImportance
{
    Ordinary,
    Important,
    Critical,
}

/// <summary>Where a customer or transformer area lies; the promised service times depend on it.</summary>
public enum AreaClass
{
    Urban,
    Rural,
    Remote,
}
