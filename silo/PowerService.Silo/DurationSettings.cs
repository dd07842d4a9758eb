using System.Reflection;
using PowerService.Api;
using PowerService.Api.Security;
using PowerService.Grains.Hosting;
using PowerService.Runtime;

namespace PowerService.Silo;

/// <summary>A duration setting given as a bare number is refused: .NET reads "30" as 30 days, so
/// <c>Silo__CallTimeout=30</c> started a silo whose calls never timed out, and <c>LogRetention=300</c> kept 300 days of
/// meter events to replay at every start. Every TimeSpan setting of the silo's option classes is checked, nested ones
/// and lists too.</summary>
internal static class DurationSettings
{
    public static void Check(IConfiguration configuration)
    {
        Check(configuration.GetSection("Silo"), typeof(SiloOptions));
        Check(configuration.GetSection("Workflow"), typeof(WorkflowOptions));
        Check(configuration.GetSection("Api"), typeof(ApiOptions));
        Check(configuration.GetSection("Auth"), typeof(AuthOptions));
    }

    private static void Check(IConfigurationSection section, Type options)
    {
        if (!section.Exists())
        {
            return;
        }
        foreach (var property in options.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var setting = section.GetSection(property.Name);
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (type == typeof(TimeSpan))
            {
                Refuse(setting);
            }
            else if (typeof(IEnumerable<TimeSpan>).IsAssignableFrom(type))
            {
                foreach (var element in setting.GetChildren())
                {
                    Refuse(element);
                }
            }
            else if (type.IsClass && type.Namespace?.StartsWith("PowerService", StringComparison.Ordinal) == true)
            {
                Check(setting, type);
            }
        }
    }

    private static void Refuse(IConfigurationSection setting)
    {
        if (setting.Value?.Trim() is not { Length: > 0 } bare || !bare.All(char.IsAsciiDigit))
        {
            return;
        }
        if (!int.TryParse(bare, System.Globalization.CultureInfo.InvariantCulture, out var number) || number > 100_000)
        {
            throw new InvalidOperationException($"{setting.Path} is '{bare}', a bare number: write a duration as [d.]hh:mm:ss.");
        }
        // The examples are written by TimeSpan itself ("00:01:30" for 90 s; "00:00:90" is refused too).
        var seconds = TimeSpan.FromSeconds(number).ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        var days = TimeSpan.FromDays(number).ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        throw new InvalidOperationException(
            $"{setting.Path} is '{bare}', which would read as {Plural(number, "day")}: write a duration as [d.]hh:mm:ss, e.g. {seconds} for {Plural(number, "second")} or {days} for {Plural(number, "day")}.");
    }

    private static string Plural(int count, string unit) => count == 1 ? $"1 {unit}" : $"{count} {unit}s";
}
