using System.Reflection;
using PowerService.Api;
using PowerService.Api.Security;
using PowerService.Grains.Hosting;
using PowerService.Runtime;

namespace PowerService.Silo;

/// <summary>Settings the configuration binder would take wrongly or drop without a word are refused before the silo
/// starts, naming the setting:
/// <list type="bullet">
/// <item>A duration given as a bare number: .NET reads "30" as 30 days, so <c>Silo__CallTimeout=30</c> started a silo
/// whose calls never timed out, and an SLA rule's <c>Limit=30</c> promised urban arrival in 30 days.</item>
/// <item>A list entry that does not read (a holiday <c>2026-13-01</c>, an SLA rule with <c>Basis=Bogus</c> or without
/// its <c>Kind</c>, a retry delay <c>2h</c>): the binder skips it silently, so the silo started with the default
/// promise instead of the configured one, and a callback list of one bad delay left no retry at all.</item>
/// </list>
/// Every property of the silo's option classes is walked, nested classes and list entries too.</summary>
internal static class SettingsCheck
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
                RefuseBareNumber(setting);
            }
            else if (ElementOf(type) is { } element)
            {
                foreach (var entry in setting.GetChildren())
                {
                    CheckEntry(entry, element);
                }
            }
            else if (IsOurs(type))
            {
                Check(setting, type);
            }
        }
    }

    /// <summary>One entry of a list: what is inside it first (a bare-number duration names its own setting), then
    /// whether it reads as the list's element at all.</summary>
    private static void CheckEntry(IConfigurationSection entry, Type element)
    {
        if (element == typeof(TimeSpan))
        {
            RefuseBareNumber(entry);
        }
        else if (IsOurs(element))
        {
            Check(entry, element);
        }
        try
        {
            _ = entry.Get(element);
        }
        catch (InvalidOperationException error)
        {
            throw new InvalidOperationException($"{entry.Path} could not be read: {Reason(error)}", error);
        }
    }

    /// <summary>The binder's own words, which name the value and the type; its innermost cause says why.</summary>
    private static string Reason(Exception error)
    {
        var innermost = error;
        while (innermost.InnerException is { } inner)
        {
            innermost = inner;
        }
        return innermost == error ? error.Message : $"{error.Message} ({innermost.Message})";
    }

    private static Type? ElementOf(Type type) =>
        type == typeof(string) ? null
        : type.IsArray ? type.GetElementType()
        : type.IsGenericType && type.GetGenericArguments() is [var element] && typeof(IEnumerable<>).MakeGenericType(element).IsAssignableFrom(type) ? element
        : null;

    private static bool IsOurs(Type type) => type.IsClass && type.Namespace?.StartsWith("PowerService", StringComparison.Ordinal) == true;

    private static void RefuseBareNumber(IConfigurationSection setting)
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
