namespace PowerService.Grains.Topology;

/// <summary>A WGS-84 position in degrees.</summary>
public readonly record struct GeoPoint(double Latitude, double Longitude)
{
    private const double EarthRadiusKm = 6371.0088;

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsValid => Latitude is >= -90 and <= 90 && Longitude is >= -180 and <= 180 && double.IsFinite(Latitude) && double.IsFinite(Longitude);

    /// <summary>A device's position: valid, and not 0, 0 — what a GPS without a fix reports (it put a crew in the Gulf of
    /// Guinea for dispatch, and its steps there in the order's history).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsFix => IsValid && (Latitude != 0 || Longitude != 0);

    /// <summary>Great-circle (haversine) distance in kilometres.</summary>
    public double DistanceKm(GeoPoint other)
    {
        var dLat = DegreesToRadians(other.Latitude - Latitude);
        var dLon = DegreesToRadians(other.Longitude - Longitude);
        var a = Math.Sin(dLat / 2) * Math.Sin(dLat / 2)
            + Math.Cos(DegreesToRadians(Latitude)) * Math.Cos(DegreesToRadians(other.Latitude)) * Math.Sin(dLon / 2) * Math.Sin(dLon / 2);
        return 2 * EarthRadiusKm * Math.Asin(Math.Min(1, Math.Sqrt(a)));
    }

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Latitude:0.######},{Longitude:0.######}");

    private static double DegreesToRadians(double degrees) => degrees * Math.PI / 180;
}
