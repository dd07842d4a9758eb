namespace PowerService.Grains.Regions;

/// <summary>Keys of <see cref="IServiceCountsGrain"/>: one per region and one per service grid (网格).</summary>
public static class ServiceCountsScope
{
    public static string Region(string regionId) => "region:" + regionId;

    public static string Grid(string gridId) => "grid:" + gridId;
}
