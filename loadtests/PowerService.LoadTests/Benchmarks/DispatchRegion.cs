using PowerService.Grains.Crews;
using PowerService.Grains.Dispatch;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;

namespace PowerService.LoadTests.Benchmarks;

/// <summary>A generated region for the dispatch benchmarks: a 60 × 60 km square (a city and its rural edge), crews at
/// random places, orders partly clustered where a storm hit. Seeded, so every run sees the same region.</summary>
internal sealed class DispatchRegion(int seed)
{
    public const double SizeKm = 60;

    private static readonly GeoPoint Corner = new(30.0, 119.9);
    private const double KmPerDegree = 111.2;

    private readonly Random _random = new(seed);

    public GeoPoint RandomPoint() => At(_random.NextDouble() * SizeKm, _random.NextDouble() * SizeKm);

    /// <summary>Two orders in three near one of a few storm hot spots, the rest anywhere.</summary>
    public GeoPoint OrderPoint(IReadOnlyList<GeoPoint> hotSpots)
    {
        if (_random.NextDouble() > 2.0 / 3)
        {
            return RandomPoint();
        }
        var spot = hotSpots[_random.Next(hotSpots.Count)];
        return new GeoPoint(spot.Latitude + (Gaussian() * 3 / KmPerDegree), spot.Longitude + (Gaussian() * 3 / KmPerDegree));
    }

    public CrewSnapshot Crew(int i, DateTimeOffset now, CrewSkill? skill = null, int? load = null) => new(
        $"crew-{i}",
        [skill ?? PickSkill()],
        [new Shift(now.AddHours(-2), now.AddHours(12))],
        CrewStatus.Available,
        RandomPoint(),
        5,
        load ?? _random.Next(0, 3),
        []);

    /// <summary>An order received up to an hour ago, promised within 45 (urban) or 90 (rural) minutes of receipt.</summary>
    public DispatchRequest Order(string id, GeoPoint location, DateTimeOffset now, WorkOrderKind? kind = null)
    {
        var received = now.AddMinutes(-_random.NextDouble() * 60);
        var promise = _random.NextDouble() < 0.6 ? 45 : 90;
        var priority = _random.NextDouble() switch
        {
            < 0.05 => WorkOrderPriority.Emergency,
            < 0.25 => WorkOrderPriority.High,
            _ => WorkOrderPriority.Normal,
        };
        return new DispatchRequest(id, kind ?? PickKind(), priority, location, received.AddMinutes(promise), []);
    }

    private CrewSkill PickSkill() => _random.NextDouble() switch
    {
        < 0.6 => CrewSkill.LowVoltageRepair,
        < 0.7 => CrewSkill.HighVoltageRepair,
        < 0.8 => CrewSkill.Metering,
        < 0.9 => CrewSkill.Connection,
        < 0.95 => CrewSkill.Survey,
        _ => CrewSkill.CustomerService,
    };

    private WorkOrderKind PickKind() => _random.NextDouble() switch
    {
        < 0.7 => WorkOrderKind.FaultRepair,
        < 0.8 => WorkOrderKind.MeterVerification,
        < 0.9 => WorkOrderKind.NewConnection,
        < 0.95 => WorkOrderKind.OnSiteSurvey,
        _ => WorkOrderKind.Complaint,
    };

    private static GeoPoint At(double eastKm, double northKm) =>
        new(Corner.Latitude + (northKm / KmPerDegree), Corner.Longitude + (eastKm / (KmPerDegree * Math.Cos(Corner.Latitude * Math.PI / 180))));

    private double Gaussian() =>
        Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());
}
