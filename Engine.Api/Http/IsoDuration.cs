using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Engine.Api.Http;

/// <summary>
/// ISO 8601 durations as the API uses them: weeks, days, hours, minutes and (fractional) seconds, with
/// an optional leading minus (<c>PT5M</c>, <c>PT4H</c>, <c>P1DT12H</c>, <c>-PT5M</c>). Years and months
/// are refused: their length depends on the calendar.
/// </summary>
public static partial class IsoDuration
{
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (text is null) return false;
        var m = Pattern().Match(text);
        if (!m.Success || (!m.Groups["w"].Success && !m.Groups["d"].Success && !m.Groups["h"].Success && !m.Groups["m"].Success && !m.Groups["s"].Success))
            return false;
        if (text.Contains('T', StringComparison.Ordinal) && !m.Groups["h"].Success && !m.Groups["m"].Success && !m.Groups["s"].Success) return false;
        try
        {
            decimal Part(string name) => m.Groups[name].Success ? decimal.Parse(m.Groups[name].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture) : 0m;
            var seconds = Part("w") * 604_800m + Part("d") * 86_400m + Part("h") * 3_600m + Part("m") * 60m + Part("s");
            if (seconds > (decimal)TimeSpan.MaxValue.TotalSeconds / 2) return false;
            var ticks = (long)decimal.Round(seconds * TimeSpan.TicksPerSecond);
            duration = TimeSpan.FromTicks(m.Groups["neg"].Success ? -ticks : ticks);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>The canonical form: days, hours, minutes, seconds, leaving out zero parts (<c>PT0S</c> for zero).</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero) return "PT0S";
        var sb = new StringBuilder();
        if (duration < TimeSpan.Zero)
        {
            sb.Append('-');
            duration = duration.Negate();
        }

        sb.Append('P');
        if (duration.Days > 0) sb.Append(duration.Days.ToString(CultureInfo.InvariantCulture)).Append('D');
        var rest = duration - TimeSpan.FromDays(duration.Days);
        if (rest > TimeSpan.Zero)
        {
            sb.Append('T');
            if (rest.Hours > 0) sb.Append(rest.Hours.ToString(CultureInfo.InvariantCulture)).Append('H');
            if (rest.Minutes > 0) sb.Append(rest.Minutes.ToString(CultureInfo.InvariantCulture)).Append('M');
            var seconds = rest - new TimeSpan(rest.Hours, rest.Minutes, 0);
            if (seconds > TimeSpan.Zero)
                sb.Append(((decimal)seconds.Ticks / TimeSpan.TicksPerSecond).ToString(CultureInfo.InvariantCulture)).Append('S');
        }

        return sb.ToString();
    }

    [GeneratedRegex(@"^(?<neg>-)?P(?:(?<w>\d{1,9})W)?(?:(?<d>\d{1,9})D)?(?:T(?:(?<h>\d{1,9})H)?(?:(?<m>\d{1,9})M)?(?:(?<s>\d{1,9}(?:\.\d{1,7})?)S)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
