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

/// <summary>What a meter measures: one customer's supply, or the whole transformer area's (the area's supply meter,
/// 台区总表, on the transformer's low-voltage side; line loss is its energy minus the customers').</summary>
public enum MeterRole
{
    Customer,
    Supply,
}
